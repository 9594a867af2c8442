"""Resolving bindings: which connector address feeds which signal, in which unit.

A binding is written on a twin or its type, keyed by a signal path relative to that twin
(``vibration``, ``spindle.vibration``) or ``"*"`` for all of the twin's own measured signals.
Where several bindings claim one signal, an explicit key beats ``"*"``, a binding written
higher in the tree (closer to the site) beats one written lower, and an instance beats its type.
"""

from __future__ import annotations

import string
from collections.abc import Mapping

from plantwin.model.layers import Located
from plantwin.model.plant import BindingDef, CommandDef, ConnectorDef, SignalDef
from plantwin.model.problems import Path, ProblemLog
from plantwin.model.resolve import TwinDraft
from plantwin.model.schema import BindingSpec
from plantwin.model.units import UnitError, linear_conversion

PLACEHOLDERS = ("site", "line", "asset", "component", "twin", "name", "signal", "command")
_Rank = tuple[int, int, int]


def resolve_bindings(
    twins: Mapping[str, TwinDraft],
    signals: Mapping[str, SignalDef],
    derived: set[str],
    connectors: Mapping[str, ConnectorDef],
    log: ProblemLog,
) -> tuple[BindingDef, ...]:
    claims: dict[str, tuple[_Rank, BindingDef, Path]] = {}
    for draft in twins.values():
        explicit = {key for key, _loc, _rank in draft.effective.bindings if key != "*"}
        for key, loc, layer_rank in draft.effective.bindings:
            if not _connector_ok(loc, connectors, log) or not _scale_ok(loc, log):
                continue
            if key == "*":
                targets = [
                    s
                    for s in draft.signals
                    if s in signals and s not in derived and s.rsplit("/", 1)[1] not in explicit
                ]
                rank: _Rank = (0, -draft.depth, layer_rank)
            else:
                target = _target(draft, key, twins, signals, derived, loc.path, log)
                if target is None:
                    continue
                targets = [target]
                rank = (1, -draft.depth, layer_rank)
            for signal_key in targets:
                binding = _binding(signal_key, twins, signals, loc, log)
                if binding is None:
                    continue
                held = claims.get(signal_key)
                if held is None or rank > held[0]:
                    claims[signal_key] = (rank, binding, loc.path)
    return _unique_addresses(claims, log)


def resolve_command_binding(
    command: CommandDef,
    draft: TwinDraft,
    spec: Located[BindingSpec],
    connectors: Mapping[str, ConnectorDef],
    log: ProblemLog,
) -> BindingDef | None:
    """A command's binding; ``a``/``b`` map a parameter value to the raw value to write.

    It is the inverse of a signal binding: a signal reads ``value = convert(raw * scale +
    offset)``, so a command writes ``raw = (convert(value) - offset) / scale``, and a register
    in tenths (``scale: 0.1``) is read and written the same way.
    """
    if not _connector_ok(spec, connectors, log) or not _scale_ok(spec, log):
        return None
    address = _address(spec, {**draft.context, "command": command.name}, log)
    if address is None:
        return None
    a, b = 1.0, 0.0
    units = [p.unit for p in command.params if p.unit]
    if spec.value.unit is not None and len(units) == 1:
        try:
            a, b = linear_conversion(units[0], spec.value.unit)
        except UnitError as err:
            log.add((*spec.path, "unit"), str(err))
            return None
    scale, offset = spec.value.scale, spec.value.offset
    return BindingDef(
        connector=spec.value.connector,
        address=address,
        signal=f"{command.twin}#{command.name}",
        scale=scale,
        offset=offset,
        source_unit=spec.value.unit or (units[0] if units else "dimensionless"),
        a=a / scale,
        b=(b - offset) / scale,
    )


def _scale_ok(loc: Located[BindingSpec], log: ProblemLog) -> bool:
    if loc.value.scale != 0:
        return True
    log.add((*loc.path, "scale"), "scale must not be 0 (every raw value would read as the offset)")
    return False


def _connector_ok(
    loc: Located[BindingSpec], connectors: Mapping[str, ConnectorDef], log: ProblemLog
) -> bool:
    if loc.value.connector in connectors:
        return True
    known = ", ".join(sorted(connectors)) or "none declared under 'connectors'"
    log.add((*loc.path, "connector"), f"unknown connector '{loc.value.connector}' ({known})")
    return False


def _target(
    draft: TwinDraft,
    key: str,
    twins: Mapping[str, TwinDraft],
    signals: Mapping[str, SignalDef],
    derived: set[str],
    path: Path,
    log: ProblemLog,
) -> str | None:
    *twin_parts, name = key.split(".")
    twin_id = ".".join([draft.id, *twin_parts])
    signal_key = f"{twin_id}/{name}"
    if twin_id not in twins or signal_key not in twins[twin_id].signals:
        log.add(path, f"binding names unknown signal '{key}'")
        return None
    if signal_key in derived:
        log.add(path, f"'{key}' is a derived signal (it has expr) and cannot be bound")
        return None
    if signal_key not in signals:
        return None  # declared but invalid: already reported
    return signal_key


def _binding(
    signal_key: str,
    twins: Mapping[str, TwinDraft],
    signals: Mapping[str, SignalDef],
    loc: Located[BindingSpec],
    log: ProblemLog,
) -> BindingDef | None:
    spec = loc.value
    twin_id, name = signal_key.rsplit("/", 1)
    address = _address(loc, {**twins[twin_id].context, "signal": name}, log)
    if address is None:
        return None
    signal_unit = signals[signal_key].unit
    source_unit = spec.unit or signal_unit
    try:
        a, b = linear_conversion(source_unit, signal_unit)
    except UnitError as err:
        log.add((*loc.path, "unit"), f"{err} (signal '{name}')")
        return None
    # value = convert(raw * scale + offset) = a * (raw * scale + offset) + b
    return BindingDef(
        connector=spec.connector,
        address=address,
        signal=signal_key,
        scale=spec.scale,
        offset=spec.offset,
        source_unit=source_unit,
        a=a * spec.scale,
        b=a * spec.offset + b,
    )


def _address(loc: Located[BindingSpec], context: Mapping[str, str], log: ProblemLog) -> str | None:
    template = loc.value.address
    try:
        parts = [(f, spec, conv) for _, f, spec, conv in string.Formatter().parse(template)]
    except ValueError as err:
        log.add((*loc.path, "address"), f"malformed address template {template!r}: {err}")
        return None
    fields = [f for f, _, _ in parts if f is not None]
    if any(spec or conv for f, spec, conv in parts if f is not None):
        log.add(
            (*loc.path, "address"),
            f"address template {template!r}: placeholders take no format (write {{asset}})",
        )
        return None
    values = dict(context)
    for field in fields:
        if field == "param":
            values["param"] = "{param}"  # filled per parameter when a command is sent
        elif field not in PLACEHOLDERS:
            known = ", ".join("{" + p + "}" for p in PLACEHOLDERS)
            log.add((*loc.path, "address"), f"unknown placeholder {{{field}}} (use {known})")
            return None
        elif field not in values:
            log.add(
                (*loc.path, "address"),
                f"placeholder {{{field}}} has no value here: this twin has no {field}",
            )
            return None
    return template.format_map(values)


def _unique_addresses(
    claims: dict[str, tuple[_Rank, BindingDef, Path]], log: ProblemLog
) -> tuple[BindingDef, ...]:
    seen: dict[tuple[str, str], str] = {}
    out: list[BindingDef] = []
    for _rank, binding, path in claims.values():
        where = (binding.connector, binding.address)
        if where in seen:
            log.add(
                (*path, "address"),
                f"address '{binding.address}' of connector '{binding.connector}' already feeds "
                f"{seen[where]}; it would also feed {binding.signal}",
            )
            continue
        seen[where] = binding.signal
        out.append(binding)
    return tuple(out)

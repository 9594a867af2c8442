"""Resolving RUL signals: a registered model's remaining useful life over a condition signal."""

from __future__ import annotations

import math
from dataclasses import replace

from plantwin.core.models import check_model_name
from plantwin.model.health import _duration, _key
from plantwin.model.layers import Located
from plantwin.model.plant import RulDef, SignalDef
from plantwin.model.problems import Path, ProblemLog
from plantwin.model.schema import RulSpec, SignalSpec
from plantwin.model.units import UnitError, parse_unit

DEFAULT_EVERY = "5 min"


def resolve_rul(
    pending: list[tuple[str, str, Located[SignalSpec]]],
    signals: dict[str, SignalDef],
    broken: set[str],
    log: ProblemLog,
    others: set[str] | frozenset[str] = frozenset(),
) -> set[str]:
    """Attach a :class:`RulDef` to each RUL signal (in place); the keys the twin computes
    (the RUL signals and their interval and version signals). ``others``: the keys the twin
    computes otherwise, which an interval or version signal must not be."""
    computed: set[str] = set()
    keys = {key for key, _, _ in pending}
    for key, twin, loc in pending:
        spec = loc.value.rul
        assert spec is not None
        where = (*loc.path, "rul")
        if key not in signals:
            continue
        if key in others:  # e.g. the version signal of a prediction
            log.add(where, "the signal is computed already, another way")
            continue
        taken = others | keys | computed
        made = _rul(spec, key, twin, loc, signals, broken, where, log, taken)
        if made is not None:
            signals[key] = replace(signals[key], rul=made)
            computed |= {key, *made.outputs}
    return computed


def _rul(
    spec: RulSpec,
    key: str,
    twin: str,
    loc: Located[SignalSpec],
    signals: dict[str, SignalDef],
    broken: set[str],
    where: Path,
    log: ProblemLog,
    taken: set[str] | frozenset[str],
) -> RulDef | None:
    if loc.value.expr is not None or loc.value.window is not None or loc.value.health is not None:
        log.add(where, "a signal is computed by one of 'expr', 'window', 'health' or 'rul'")
        return None
    try:
        check_model_name(spec.model)
    except ValueError as err:
        log.add((*where, "model"), str(err))
        return None
    ok = _hours(signals[key], (*loc.path, "unit"), log)
    inputs = {}
    for field in ("signal", "running"):
        source = _key(twin, getattr(spec, field))
        if source in broken:
            return None
        if source not in signals or source == key:
            log.add((*where, field), f"unknown signal '{getattr(spec, field)}' of this twin")
            ok = False
        inputs[field] = source
    outputs: dict[str, str | None] = {}
    for field in ("low", "high", "version"):
        name = getattr(spec, field)
        target = None if name is None else _key(twin, name)
        if target is not None and (target not in signals or target in (key, *inputs.values())):
            log.add((*where, field), f"'{name}' is not another declared signal of this twin")
            ok = False
        elif target is not None and target in taken:
            log.add((*where, field), f"'{name}' is computed already, another way")
            ok = False
        elif target is not None and field != "version":
            ok = _hours(signals[target], (*where, field), log) and ok
        outputs[field] = target
    if not (math.isfinite(spec.failure) and spec.failure > 0):
        log.add((*where, "failure"), "the failure level must be a positive number")
        ok = False
    every = _duration(spec.every if spec.every is not None else DEFAULT_EVERY, where, log)
    if every is None or not ok:
        return None
    if every <= 0:
        log.add((*where, "every"), "the prediction period must be positive")
        return None
    return RulDef(
        model=spec.model,
        signal=inputs["signal"],
        running=inputs["running"],
        failure=spec.failure,
        every_ns=every,
        **outputs,
    )


def _hours(signal: SignalDef, where: Path, log: ProblemLog) -> bool:
    try:
        if parse_unit(signal.unit).dimensionality == parse_unit("h").dimensionality:
            return True
    except UnitError:
        return True  # reported where the unit is declared
    log.add(where, f"'{signal.name}' holds hours: give it a time unit (h), not '{signal.unit}'")
    return False

"""Resolving the plant file's ``fmus`` section against each FMU's own description.

Every binding is checked where it is written: the FMU file exists and is an FMI 2.0/3.0
co-simulation FMU with a binary for this machine; each variable exists, is a real number and
has the causality its role needs (input, output, parameter); units convert (pint). FMU
outputs and residuals become new signals of the twin, so rules, windows and the API see
them like any other signal.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path as FilePath

from plantwin.model.fmu_defs import FmuDef, FmuParameter, FmuPort, ResidualDef
from plantwin.model.fmu_description import (
    FmuDescription,
    FmuDescriptionError,
    FmuVariable,
    read_description,
)
from plantwin.model.layers import Located
from plantwin.model.plant import SignalDef
from plantwin.model.problems import Path, ProblemLog
from plantwin.model.resolve import ID_PATTERN, TreeBuilder
from plantwin.model.schema import FmuOutputSpec, FmuSpec, SignalSpec
from plantwin.model.signals import check_signal
from plantwin.model.units import (
    UnitError,
    amount,
    duration_ns,
    linear_conversion,
    parse_unit,
    registry,
)

BUILD_HINT = "python -m plantwin.simulation.fmu.build SOURCE_DIR OUT.fmu"
_PARAMETER_CAUSALITIES = ("parameter", "structuralParameter")


@dataclass(slots=True)
class _Context:
    name: str
    spec: FmuSpec
    twin: str
    where: Path
    path: FilePath
    description: FmuDescription


def resolve_fmus(
    specs: Mapping[str, FmuSpec], tree: TreeBuilder, base: FilePath, log: ProblemLog
) -> tuple[dict[str, FmuDef], set[str]]:
    """The plant's FMUs, and the keys of the signals they add (outputs and residuals).

    New signals are added to ``tree.signals`` and their twin's draft. Relative FMU paths
    start at ``base``, the plant file's folder.
    """
    made = {  # planned output and residual signals (declared ones are reported as clashes)
        f"{spec.twin}/{name}"
        for spec in specs.values()
        for name in [*(_output(o).signal for o in spec.outputs.values()), *spec.residuals]
    } - set(tree.signals)
    fmus: dict[str, FmuDef] = {}
    added: set[str] = set()
    for name, spec in specs.items():
        where: Path = ("fmus", name)
        if not ID_PATTERN.match(name):
            log.add(where, f"FMU name '{name}' must start with a letter (letters, digits, _ -)")
            continue
        context = _context(name, spec, tree, base, where, log)
        fmu = None if context is None else _resolve(context, tree, made, log)
        # Signals it should have made but could not: rules naming them stay quiet.
        tree.broken.update(
            k for k in made if k.startswith(f"{spec.twin}/") and k not in tree.signals
        )
        if fmu is not None:
            fmus[name] = fmu
            added.update(p.signal for p in fmu.outputs)
            added.update(r.signal for r in fmu.residuals)
    return fmus, added


def _context(
    name: str, spec: FmuSpec, tree: TreeBuilder, base: FilePath, where: Path, log: ProblemLog
) -> _Context | None:
    ok = True
    if spec.twin not in tree.twins:
        close = difflib.get_close_matches(spec.twin, list(tree.twins), n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        log.add((*where, "twin"), f"unknown twin '{spec.twin}'{hint}")
        ok = False
    path = (base / spec.file).resolve()
    try:
        description = read_description(path)
    except FmuDescriptionError as err:
        log.add((*where, "file"), str(err))
        return None
    if not description.binary:
        if description.sources:
            message = (
                f"{path.name} is a source FMU without a binary for this machine; "
                f"build it first: {BUILD_HINT}"
            )
        else:
            message = f"{path.name} has no binary for this machine (binaries/ for this platform)"
        log.add((*where, "file"), message)
        ok = False
    if not ok:
        return None
    return _Context(
        name=name, spec=spec, twin=spec.twin, where=where, path=path, description=description
    )


def _resolve(ctx: _Context, tree: TreeBuilder, made: set[str], log: ProblemLog) -> FmuDef | None:
    spec, where = ctx.spec, ctx.where
    before = len(log.problems)
    step_ns = 0
    try:
        step_ns = duration_ns(spec.step)
    except UnitError as err:
        log.add((*where, "step"), str(err))
    else:
        if step_ns <= 0:
            log.add((*where, "step"), "the communication step must be longer than 0 s")
    if not spec.outputs:
        log.add((*where, "outputs"), "an FMU needs at least one output bound to a signal")
    inputs = _ports(ctx, "inputs", spec.inputs, ("input",), tree, made, log)
    initial = _ports(
        ctx, "initial", spec.initial, (*_PARAMETER_CAUSALITIES, "input"), tree, made, log
    )
    parameters = _parameters(ctx, log)
    outputs = _outputs(ctx, tree, log)
    residuals = _residuals(ctx, tree, outputs, made, log)
    if len(log.problems) > before:
        return None
    return FmuDef(
        name=ctx.name,
        twin=ctx.twin,
        path=str(ctx.path),
        fmi_version=ctx.description.fmi_version,
        model_identifier=ctx.description.model_identifier,
        token=ctx.description.token,
        step_ns=step_ns,
        inputs=inputs,
        outputs=outputs,
        parameters=parameters,
        initial=initial,
        residuals=residuals,
        description=spec.description,
    )


def _variable(
    ctx: _Context, where: Path, variable: str, causalities: tuple[str, ...], log: ProblemLog
) -> FmuVariable | None:
    found = ctx.description.variables.get(variable)
    if found is None:
        names = [v for v, d in ctx.description.variables.items() if d.causality in causalities]
        close = difflib.get_close_matches(variable, names, n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else f" ({', '.join(names[:8]) or 'none'})"
        log.add(where, f"{ctx.description.model_name} has no variable '{variable}'{hint}")
        return None
    if found.causality not in causalities:
        wanted = "' or '".join(causalities)
        log.add(
            where, f"FMU variable '{variable}' has causality '{found.causality}', not '{wanted}'"
        )
        return None
    if not found.real:
        log.add(where, f"FMU variable '{variable}' is not a real number (only reals are bound)")
        return None
    return found


def _signal_key(ctx: _Context, name: str) -> str:
    *twin_parts, last = name.split(".")
    return f"{'.'.join([ctx.twin, *twin_parts])}/{last}"


def _ports(
    ctx: _Context,
    section: str,
    bindings: Mapping[str, str],
    causalities: tuple[str, ...],
    tree: TreeBuilder,
    made: set[str],
    log: ProblemLog,
) -> tuple[FmuPort, ...]:
    """Signals read by the FMU: ``fmu = a * signal + b``."""
    ports: list[FmuPort] = []
    for variable, signal in bindings.items():
        where = (*ctx.where, section, variable)
        found = _variable(ctx, where, variable, causalities, log)
        key = _signal_key(ctx, signal)
        if key in made:
            log.add(where, f"'{signal}' is made by an FMU; an FMU cannot read FMU signals (yet)")
            continue
        if key in tree.broken:
            continue
        if key not in tree.signals:
            log.add(where, f"unknown signal '{signal}' of twin '{ctx.twin}'")
            continue
        if found is None:
            continue
        converted = _convert(tree.signals[key].unit, found.unit, where, log)
        if converted is not None:
            a, b = converted
            ports.append(
                FmuPort(
                    variable=variable, value_reference=found.value_reference, signal=key, a=a, b=b
                )
            )
    return tuple(ports)


def _convert(
    source: str | None, target: str | None, where: Path, log: ProblemLog
) -> tuple[float, float] | None:
    """``(a, b)`` from ``source`` to ``target`` units; a side without a unit passes as it is."""
    if source is None or target is None:
        return 1.0, 0.0
    try:
        return linear_conversion(source, target)
    except UnitError as err:
        log.add(where, str(err))
        return None


def _parameters(ctx: _Context, log: ProblemLog) -> tuple[FmuParameter, ...]:
    out: list[FmuParameter] = []
    for variable, value in ctx.spec.parameters.items():
        where = (*ctx.where, "parameters", variable)
        found = _variable(ctx, where, variable, _PARAMETER_CAUSALITIES, log)
        if found is None:
            continue
        try:
            number = amount(value, found.unit or "dimensionless", difference=False)
        except UnitError as err:
            log.add(where, str(err))
            continue
        out.append(
            FmuParameter(variable=variable, value_reference=found.value_reference, value=number)
        )
    return tuple(out)


def _output(spec: str | FmuOutputSpec) -> FmuOutputSpec:
    return FmuOutputSpec(signal=spec) if isinstance(spec, str) else spec


def _new_signal(
    ctx: _Context, tree: TreeBuilder, name: str, spec: SignalSpec, where: Path, log: ProblemLog
) -> SignalDef | None:
    """A new signal ``name`` of the twin, added to the tree."""
    key = f"{ctx.twin}/{name}"
    if not ID_PATTERN.match(name):
        log.add(where, f"signal name '{name}' must start with a letter (letters, digits, _ -)")
        return None
    if key in tree.signals or key in tree.broken:
        log.add(where, f"twin '{ctx.twin}' already has a signal '{name}'")
        return None
    checked = check_signal(key, ctx.twin, name, Located(spec, where), log)
    if checked is None:
        return None
    definition, _ = checked
    tree.signals[key] = definition
    tree.twins[ctx.twin].signals.append(key)
    return definition


def _outputs(ctx: _Context, tree: TreeBuilder, log: ProblemLog) -> tuple[FmuPort, ...]:
    """FMU outputs as new signals: ``signal = a * fmu + b``."""
    ports: list[FmuPort] = []
    for variable, raw in ctx.spec.outputs.items():
        where = (*ctx.where, "outputs", variable)
        output = _output(raw)
        found = _variable(ctx, where, variable, ("output",), log)
        if found is None:
            continue
        unit = output.unit or found.unit
        if unit is None:
            log.add(where, f"FMU variable '{variable}' declares no unit: give the signal a 'unit'")
            continue
        spec = SignalSpec(unit=unit, range=output.range, description=output.description)
        signal = _new_signal(ctx, tree, output.signal, spec, where, log)
        converted = _convert(found.unit, unit, where, log) if signal is not None else None
        if signal is not None and converted is not None:
            a, b = converted
            ports.append(
                FmuPort(
                    variable=variable,
                    value_reference=found.value_reference,
                    signal=signal.key,
                    a=a,
                    b=b,
                )
            )
    return tuple(ports)


def _residuals(
    ctx: _Context,
    tree: TreeBuilder,
    outputs: tuple[FmuPort, ...],
    made: set[str],
    log: ProblemLog,
) -> tuple[ResidualDef, ...]:
    out: list[ResidualDef] = []
    by_name = {p.signal.rsplit("/", 1)[1]: p.signal for p in outputs}
    planned = {_output(o).signal for o in ctx.spec.outputs.values()}
    for name, spec in ctx.spec.residuals.items():
        where = (*ctx.where, "residuals", name)
        model = by_name.get(spec.model)
        if model is None and spec.model in planned:
            continue  # its output failed, reported there
        if model is None:
            known = ", ".join(by_name) or "none"
            log.add(
                (*where, "model"), f"'{spec.model}' is not an output signal of this FMU ({known})"
            )
            continue
        measured = _signal_key(ctx, spec.measured)
        if measured in made or measured not in tree.signals:
            log.add((*where, "measured"), f"unknown measured signal '{spec.measured}'")
            continue
        model_unit = parse_unit(tree.signals[model].unit)
        unit = spec.unit or _difference_unit(tree.signals[model].unit)
        try:
            a, b = linear_conversion(tree.signals[measured].unit, model_unit)
            scale = amount(f"1 {model_unit}", unit, difference=True)
        except UnitError as err:
            log.add(where, f"measured minus model in '{unit}': {err}")
            continue
        signal = _new_signal(
            ctx,
            tree,
            name,
            SignalSpec(unit=unit, range=spec.range, description=spec.description),
            where,
            log,
        )
        if signal is not None:
            out.append(
                ResidualDef(
                    signal=signal.key, measured=measured, model=model, a=a, b=b, scale=scale
                )
            )
    return tuple(out)


def _difference_unit(unit: str) -> str:
    """The unit of a difference of ``unit``: a change of degC is delta_degC (pint)."""
    parsed = parse_unit(unit)
    base = registry().Quantity(1.0, parsed).to_base_units().units
    _, offset = linear_conversion(parsed, str(base))
    return f"delta_{parsed}" if offset else unit

"""Resolving a command's closed loop: the signal it reports on, its timeout and interlocks.

Run after signals are resolved, since ``reports`` and interlock expressions name signals of the
command's twin (or of its components, by dotted path). Every problem is logged with its path.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from plantwin.model.expressions import ExpressionError, parse
from plantwin.model.layers import Located
from plantwin.model.plant import (
    DEFAULT_COMMAND_TIMEOUT_NS,
    CommandDef,
    InterlockDef,
    ReportDef,
    SignalDef,
)
from plantwin.model.problems import Path, ProblemLog
from plantwin.model.resolve import TwinDraft
from plantwin.model.schema import CommandSpec, InterlockSpec
from plantwin.model.units import UnitError, amount, duration_ns, linear_conversion


def resolve_closed_loop(
    command: CommandDef,
    loc: Located[CommandSpec],
    twins: Mapping[str, TwinDraft],
    signals: Mapping[str, SignalDef],
    broken: set[str],
    log: ProblemLog,
) -> CommandDef:
    """``command`` with its report signal, timeout and interlocks (problems are logged)."""
    spec, path = loc.value, loc.path
    timeout = DEFAULT_COMMAND_TIMEOUT_NS
    if spec.timeout is not None:
        try:
            timeout = duration_ns(spec.timeout)
        except UnitError as err:
            log.add((*path, "timeout"), str(err))
        else:
            if timeout == 0:
                log.add((*path, "timeout"), "timeout must be longer than 0 s")
    report = _report(command, spec, path, signals, broken, log)
    if spec.tolerance is not None and spec.reports is None:
        log.add((*path, "tolerance"), "tolerance needs 'reports' (the signal it applies to)")
    interlocks = tuple(
        lock
        for i, item in enumerate(spec.interlocks)
        if (
            lock := _interlock(
                command.twin, item, (*path, "interlocks", i), twins, signals, broken, log
            )
        )
        is not None
    )
    return replace(command, reports=report, timeout_ns=timeout, interlocks=interlocks)


def _signal_key(twin: str, name: str) -> str:
    *parts, last = name.split(".")
    return f"{'.'.join([twin, *parts])}/{last}"


def _report(  # noqa: PLR0911 - one early return per kind of problem
    command: CommandDef,
    spec: CommandSpec,
    path: Path,
    signals: Mapping[str, SignalDef],
    broken: set[str],
    log: ProblemLog,
) -> ReportDef | None:
    if spec.reports is None:
        return None
    where = (*path, "reports")
    key = _signal_key(command.twin, spec.reports)
    if key in broken:
        return None
    signal = signals.get(key)
    if signal is None:
        log.add(where, f"unknown signal '{spec.reports}' of {command.twin}")
        return None
    if len(command.params) != 1:
        log.add(where, f"reports needs a command with one parameter (it has {len(command.params)})")
        return None
    param = command.params[0]
    if param.dtype == "str":
        log.add(where, f"parameter '{param.name}' is a str; only numbers and bools are reported")
        return None
    a, b = 1.0, 0.0
    if param.unit is not None:
        try:
            a, b = linear_conversion(param.unit, signal.unit)
        except UnitError as err:
            log.add(
                where, f"parameter '{param.name}' cannot be reported on '{spec.reports}': {err}"
            )
            return None
    tolerance = 0.0
    if spec.tolerance is not None:
        try:
            tolerance = amount(spec.tolerance, signal.unit, difference=True)
        except UnitError as err:
            log.add((*path, "tolerance"), str(err))
            return None
        if tolerance < 0:
            log.add((*path, "tolerance"), "tolerance must not be negative")
            return None
    return ReportDef(path=spec.reports, signal=key, a=a, b=b, tolerance=tolerance)


def _interlock(
    twin: str,
    spec: InterlockSpec,
    path: Path,
    twins: Mapping[str, TwinDraft],
    signals: Mapping[str, SignalDef],
    broken: set[str],
    log: ProblemLog,
) -> InterlockDef | None:
    where = (*path, "when")
    try:
        expression = parse(spec.when)
    except ExpressionError as err:
        log.add(where, str(err))
        return None
    inputs: dict[str, str] = {}
    constants: dict[str, float] = {}
    for name in expression.names:
        key = _signal_key(twin, name)
        if key in broken:
            return None
        if key in signals:
            inputs[name] = key
            continue
        owner, _, prop = key.partition("/")
        value = twins[owner].effective.properties.get(prop) if owner in twins else None
        if (
            value is not None
            and isinstance(value.value, int | float)
            and not isinstance(value.value, bool)
        ):
            constants[name] = float(value.value)
            continue
        log.add(where, f"unknown name '{name}': not a signal or numeric property of {twin}")
        return None
    message = spec.message or f"interlock '{spec.when}' holds"
    return InterlockDef(
        when=spec.when, message=message, inputs=inputs, constants=constants, expression=expression
    )

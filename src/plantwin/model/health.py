"""Resolving health signals: an anomaly detector's score 0-100 over signals of the twin."""

from __future__ import annotations

import math
from dataclasses import replace

from plantwin.model.layers import Located
from plantwin.model.plant import HealthDef, SignalDef
from plantwin.model.problems import Path, ProblemLog
from plantwin.model.schema import HealthSpec, HealthyWhenSpec, SignalSpec
from plantwin.model.units import UnitError, amount, duration_ns, parse_unit

DEFAULT_FIT = "8 h"
DEFAULT_EVERY = "10 s"


def resolve_health(
    pending: list[tuple[str, str, Located[SignalSpec]]],
    signals: dict[str, SignalDef],
    broken: set[str],
    log: ProblemLog,
) -> None:
    """Attach a :class:`HealthDef` to each health signal in ``signals`` (in place).

    Detector health signals first, so a part (``of``) can check it names one of them.
    """
    ordered = sorted(
        pending,
        key=lambda item: item[2].value.health is not None and item[2].value.health.of is not None,
    )
    for key, twin, loc in ordered:
        spec = loc.value.health
        assert spec is not None
        where = (*loc.path, "health")
        if key not in signals:
            continue
        if loc.value.expr is not None or loc.value.window is not None:
            log.add(
                where, "a signal is computed by one of 'expr', 'window' or 'health', not several"
            )
            continue
        if not _percent(signals[key].unit):
            log.add((*loc.path, "unit"), "a health signal's unit is percent (0-100)")
            continue
        inputs = _inputs(spec, twin, key, signals, broken, where, log)
        if inputs is None:
            continue
        made = (
            _part(spec, twin, inputs, signals, where, log)
            if spec.of
            else _detector(spec, inputs, signals, where, log)
        )
        if made is not None:
            signals[key] = replace(signals[key], health=made)


def _inputs(
    spec: HealthSpec,
    twin: str,
    key: str,
    signals: dict[str, SignalDef],
    broken: set[str],
    where: Path,
    log: ProblemLog,
) -> tuple[str, ...] | None:
    if not spec.signals:
        log.add((*where, "signals"), "list at least one signal")
        return None
    keys: list[str] = []
    for n, name in enumerate(spec.signals):
        source = _key(twin, name)
        if source in broken:
            return None
        if source not in signals:
            log.add((*where, "signals", n), f"unknown signal '{name}'")
            return None
        if source == key or signals[source].health is not None:
            log.add((*where, "signals", n), f"'{name}' is a health signal; list measured signals")
            return None
        if source in keys:
            log.add((*where, "signals", n), f"'{name}' is listed twice")
            return None
        keys.append(source)
    return tuple(keys)


def _detector(
    spec: HealthSpec,
    inputs: tuple[str, ...],
    signals: dict[str, SignalDef],
    where: Path,
    log: ProblemLog,
) -> HealthDef | None:
    fit = _duration(spec.fit if spec.fit is not None else DEFAULT_FIT, (*where, "fit"), log)
    every = _duration(
        spec.every if spec.every is not None else DEFAULT_EVERY, (*where, "every"), log
    )
    if fit is None or every is None:
        return None
    if every <= 0 or fit < 10 * every:
        log.add(where, "the fit period must hold at least 10 scoring periods ('every')")
        return None
    healthy = None
    if spec.healthy_when is not None:
        healthy = _healthy(spec.healthy_when, spec, inputs, signals, (*where, "healthy_when"), log)
        if healthy is None:
            return None
    return HealthDef(
        signals=inputs,
        detector=spec.detector or "pca",
        fit_ns=fit,
        every_ns=every,
        healthy=healthy,
    )


def _healthy(
    when: HealthyWhenSpec,
    spec: HealthSpec,
    inputs: tuple[str, ...],
    signals: dict[str, SignalDef],
    where: Path,
    log: ProblemLog,
) -> tuple[int, float, float] | None:
    """(input column, low, high) in the signal's own unit; the condition reads a signal the
    detector already samples, so its rows carry the value the condition is checked on."""
    if when.signal not in spec.signals:
        log.add(
            (*where, "signal"),
            f"'{when.signal}' is not among the health signal's signals: {', '.join(spec.signals)}",
        )
        return None
    if when.below is None and when.above is None:
        log.add(where, "give 'below', 'above' or both")
        return None
    column = spec.signals.index(when.signal)
    unit = signals[inputs[column]].unit
    bounds: list[float] = []
    for name, value, default in (("above", when.above, -math.inf), ("below", when.below, math.inf)):
        if value is None:
            bounds.append(default)
            continue
        try:
            bounds.append(amount(value, unit, difference=False))
        except UnitError as err:
            log.add((*where, name), f"{err} (the unit of '{when.signal}' is '{unit}')")
            return None
    low, high = bounds
    if low >= high:
        log.add(where, "'above' must be less than 'below': no row could be healthy")
        return None
    return column, low, high


def _part(
    spec: HealthSpec,
    twin: str,
    inputs: tuple[str, ...],
    signals: dict[str, SignalDef],
    where: Path,
    log: ProblemLog,
) -> HealthDef | None:
    assert spec.of is not None
    if (
        spec.detector is not None
        or spec.fit is not None
        or spec.every is not None
        or (spec.healthy_when is not None)
    ):
        log.add(
            where,
            "a part of another health signal ('of') takes no detector, fit, every or healthy_when",
        )
        return None
    whole = signals.get(_key(twin, spec.of))
    if whole is None or whole.health is None or whole.health.of is not None:
        log.add((*where, "of"), f"'{spec.of}' is not a health signal with a detector of this twin")
        return None
    outside = [
        name for name, k in zip(spec.signals, inputs, strict=True) if k not in whole.health.signals
    ]
    if outside:
        log.add((*where, "signals"), f"not among the signals of '{spec.of}': {', '.join(outside)}")
        return None
    return HealthDef(signals=inputs, of=whole.key, every_ns=whole.health.every_ns)


def _key(twin: str, name: str) -> str:
    *twin_parts, last = name.split(".")
    return f"{'.'.join([twin, *twin_parts])}/{last}"


def _percent(unit: str) -> bool:
    try:
        return bool(parse_unit(unit) == parse_unit("percent"))
    except UnitError:
        return True  # reported where the unit is declared


def _duration(value: str | float, where: Path, log: ProblemLog) -> int | None:
    try:
        return duration_ns(value)
    except UnitError as err:
        log.add(where, str(err))
        return None

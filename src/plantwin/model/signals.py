"""Checking one signal declaration: unit, range, rate, expression syntax."""

from __future__ import annotations

import math

import pint

from plantwin.model.expressions import Expression, ExpressionError, parse
from plantwin.model.layers import Located
from plantwin.model.plant import SignalDef
from plantwin.model.problems import ProblemLog
from plantwin.model.schema import DataType, SignalSpec
from plantwin.model.units import UnitError, parse_quantity, parse_unit, symbol


def check_signal(
    key: str, twin: str, name: str, loc: Located[SignalSpec], log: ProblemLog
) -> tuple[SignalDef, Expression | None] | None:
    """The signal's definition and parsed expression, or None after logging its problems."""
    spec, path = loc.value, loc.path
    ok = True
    unit: pint.Unit | None = None
    try:
        unit = parse_unit(spec.unit)
    except UnitError as err:
        log.add((*path, "unit"), str(err))
        ok = False
    low, high = spec.range if spec.range is not None else (None, None)
    if low is not None and high is not None and not low < high:
        log.add((*path, "range"), f"range low {low:g} is not below high {high:g}")
        ok = False
    if spec.type is DataType.BOOL and spec.range not in (None, (0.0, 1.0)):
        log.add((*path, "range"), "a bool signal's range can only be [0, 1]")
        ok = False
    rate = _rate_hz(spec.rate, path, log)
    expression: Expression | None = None
    if spec.expr is not None:
        try:
            expression = parse(spec.expr)
        except ExpressionError as err:
            log.add((*path, "expr"), str(err))
            ok = False
    if not ok or unit is None or rate is False:
        return None
    definition = SignalDef(
        key=key,
        twin=twin,
        name=name,
        unit=spec.unit,
        symbol=symbol(unit),
        dtype=spec.type,
        low=low,
        high=high,
        rate_hz=rate,
        counter=spec.counter,
        description=spec.description,
    )
    return definition, expression


def _rate_hz(  # noqa: PLR0911 - one early return per kind of bad rate
    rate: str | float | None, path: tuple[str | int, ...], log: ProblemLog
) -> float | bool | None:
    """Nominal rate in Hz; None when not given; False after logging a problem."""
    if rate is None:
        return None
    where = (*path, "rate")
    if isinstance(rate, int | float):
        if rate <= 0 or not math.isfinite(rate):
            log.add(where, f"rate must be a positive number of Hz, got {rate}")
            return False
        return float(rate)
    try:
        quantity = parse_quantity(rate)
    except UnitError as err:
        log.add(where, str(err))
        return False
    if quantity.check("[frequency]"):
        hz = float(quantity.to("Hz").magnitude)
    elif quantity.check("[time]"):
        period = float(quantity.to("s").magnitude)
        hz = 1.0 / period if period > 0 else -1.0
    else:
        log.add(where, f"rate {rate!r} is neither a frequency ('1 Hz') nor a period ('10 s')")
        return False
    if hz <= 0:
        log.add(where, f"rate must be positive, got {rate!r}")
        return False
    return hz

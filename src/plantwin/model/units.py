"""Units: one pint registry, parsing with clear errors, and linear conversions for ingest.

Units are converted once, at ingest, with a precomputed ``value * a + b`` per binding; pint
is used to find ``a`` and ``b`` (``b`` is non-zero only for offset scales like degC/degF).
"""

from __future__ import annotations

import functools
import math
import re
from typing import Any

import pint

PintQuantity = pint.Quantity[Any]


class UnitError(ValueError):
    """A unit string is unknown or does not fit where it is used."""


@functools.cache
def registry() -> pint.UnitRegistry[Any]:
    ureg: pint.UnitRegistry[Any] = pint.UnitRegistry(cache_folder=None)
    # Plant vocabulary pint lacks: pieces produced.
    ureg.define("piece = count = pcs")
    return ureg


@functools.cache
def parse_unit(text: str) -> pint.Unit:
    """The pint unit for ``text``; raises UnitError naming the text when unknown."""
    cleaned = text.strip()
    if not cleaned:
        msg = "empty unit; write 'dimensionless' for a pure number"
        raise UnitError(msg)
    try:
        return registry().Unit(cleaned)
    except Exception as err:  # pint's parser raises many kinds (ZeroDivision, Assertion ...)
        msg = f"unknown unit {cleaned!r}"
        raise UnitError(msg) from err


_QUANTITY = re.compile(r"^\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*(.*?)\s*$")


def parse_quantity(text: str) -> PintQuantity:
    """A quantity such as ``'18.5 kW'`` or ``'20 degC'``; a bare number is dimensionless.

    Raises UnitError when the text is not a finite number followed by a known unit.
    """
    match = _QUANTITY.match(text)
    if match is None:
        msg = f"not a quantity: {text!r} (write a number and a unit, e.g. '18.5 kW')"
        raise UnitError(msg)
    number, unit = match.groups()
    value = float(number)
    if not math.isfinite(value):
        msg = f"not a quantity: {text!r} (the number is not finite)"
        raise UnitError(msg)
    return registry().Quantity(value, parse_unit(unit) if unit else "dimensionless")


def linear_conversion(source: str | pint.Unit, target: str | pint.Unit) -> tuple[float, float]:
    """``(a, b)`` with ``target_value = a * source_value + b``.

    Raises UnitError when the dimensions differ (e.g. kPa into degC), or when a temperature
    difference would be read as a temperature (delta_degC into degC).
    """
    src = parse_unit(source) if isinstance(source, str) else source
    dst = parse_unit(target) if isinstance(target, str) else target
    if src.dimensionality != dst.dimensionality:
        msg = (
            f"unit {symbol(src)!r} ({_dims(src)}) cannot be converted to "
            f"{symbol(dst)!r} ({_dims(dst)})"
        )
        raise UnitError(msg)
    ureg = registry()
    try:
        zero = float(ureg.Quantity(0.0, src).to(dst).magnitude)
        one = float(ureg.Quantity(1.0, src).to(dst).magnitude)
    except (pint.DimensionalityError, pint.OffsetUnitCalculusError) as err:
        msg = (
            f"unit {symbol(src)!r} cannot be converted to {symbol(dst)!r}: a temperature "
            "difference is not a temperature; use K or delta_degC for differences"
        )
        raise UnitError(msg) from err
    return one - zero, zero


def symbol(unit: pint.Unit) -> str:
    """Short display form, e.g. 'mm / s', '°C', 'kW'."""
    text = f"{unit:~P}"
    return text if text else "1"


def _dims(unit: pint.Unit) -> str:
    dims = str(unit.dimensionality)
    return "dimensionless" if dims == "dimensionless" else dims


_PERCENT = re.compile(r"^\s*([-+]?(?:\d+\.?\d*|\.\d+))\s*%\s*$")


def percent(value: str | float) -> float | None:
    """The number in ``'20 %'``, or None when ``value`` is not written as a percentage."""
    if not isinstance(value, str):
        return None
    match = _PERCENT.match(value)
    return float(match.group(1)) if match else None


def duration_ns(value: str | float) -> int:
    """A duration such as ``'10 min'`` or a number of seconds, in nanoseconds (never negative)."""
    if isinstance(value, str):
        quantity = parse_quantity(value)
        if quantity.dimensionality != registry().second.dimensionality:
            msg = f"{value!r} is not a duration (write e.g. '30 s' or '10 min')"
            raise UnitError(msg)
        seconds = float(quantity.to("s").magnitude)
    else:
        seconds = float(value)
    if not math.isfinite(seconds) or seconds < 0:
        msg = f"a duration must be a finite number of seconds >= 0, got {value!r}"
        raise UnitError(msg)
    return round(seconds * 1e9)


def amount(value: str | float, unit: str, *, difference: bool, per_second: bool = False) -> float:
    """``value`` in ``unit``: a bare number is taken as already in ``unit``.

    ``difference`` reads the amount as a change (a deadband or a deviation: 1 K is 1 degC, not
    -272.15 degC); ``per_second`` reads it as a rate and gives ``unit`` per second.
    """
    if not isinstance(value, str):
        return float(value)
    quantity = parse_quantity(value)
    if quantity.unitless:
        return float(quantity.magnitude)
    ureg = registry()
    target = parse_unit(unit)
    try:
        if per_second:
            quantity = (quantity * ureg.Quantity(1.0, "s")).to_base_units()
        source = quantity.units
        if difference or per_second:
            # Scale only: a change of 1 degC is 1 K (the offset of degC/degF means nothing
            # for a change), so compare the slopes of both units against their base unit.
            if quantity.dimensionality != target.dimensionality:
                raise pint.DimensionalityError(source, target)
            base = str(ureg.Quantity(1.0, target).to_base_units().units)
            slope_source, _ = linear_conversion(str(source), base)
            slope_target, _ = linear_conversion(target, base)
            return float(quantity.magnitude * slope_source / slope_target)
        a, b = linear_conversion(str(source), target)
    except (pint.DimensionalityError, pint.OffsetUnitCalculusError) as err:
        wanted = f"{symbol(target)} per second" if per_second else symbol(target)
        msg = f"{value!r} cannot be expressed in {wanted}"
        raise UnitError(msg) from err
    return float(a * quantity.magnitude + b)

"""Resolving derived signals: names to signals or constants, units, and evaluation order."""

from __future__ import annotations

from collections.abc import Mapping

from plantwin.model.expressions import compile_numeric, result_unit
from plantwin.model.plant import DerivedDef, SignalDef
from plantwin.model.problems import ProblemLog
from plantwin.model.resolve import PendingDerived, TwinDraft
from plantwin.model.units import (
    PintQuantity,
    UnitError,
    linear_conversion,
    parse_quantity,
    parse_unit,
    registry,
    symbol,
)


def resolve_derived(
    pending: list[PendingDerived],
    twins: Mapping[str, TwinDraft],
    signals: dict[str, SignalDef],
    broken: set[str],
    log: ProblemLog,
) -> list[str]:
    """Attach a DerivedDef to each valid derived signal; return them in evaluation order."""
    resolved: dict[str, DerivedDef] = {}
    for item in pending:
        derived = _resolve(item, twins, signals, broken, log)
        if derived is None:
            signals.pop(item.key, None)
            broken.add(item.key)
        else:
            resolved[item.key] = derived
    order = _order(resolved, pending, log)
    for key in order:
        old = signals[key]
        signals[key] = SignalDef(
            key=old.key,
            twin=old.twin,
            name=old.name,
            unit=old.unit,
            symbol=old.symbol,
            dtype=old.dtype,
            low=old.low,
            high=old.high,
            rate_hz=old.rate_hz,
            counter=old.counter,
            description=old.description,
            derived=resolved[key],
        )
    for key in set(resolved) - set(order):
        signals.pop(key, None)  # part of a cycle: reported, left out
    return order


def _resolve(  # noqa: PLR0911 - one early return per kind of problem
    item: PendingDerived,
    twins: Mapping[str, TwinDraft],
    signals: Mapping[str, SignalDef],
    broken: set[str],
    log: ProblemLog,
) -> DerivedDef | None:
    where = (*item.location.path, "expr")
    inputs: dict[str, str] = {}
    constants: dict[str, float] = {}
    quantities: dict[str, PintQuantity] = {}
    ureg = registry()
    quiet = False
    for name in item.expression.names:
        *twin_parts, last = name.split(".")
        twin_id = ".".join([item.twin, *twin_parts])
        key = f"{twin_id}/{last}"
        if key in broken:
            quiet = True
        elif key in signals:
            if key == item.key:
                log.add(where, f"'{name}' refers to the signal itself")
                return None
            inputs[name] = key
            quantities[name] = ureg.Quantity(1.0, parse_unit(signals[key].unit))
        elif twin_id in twins and last in twins[twin_id].effective.properties:
            value = twins[twin_id].effective.properties[last].value
            quantity = _constant(value)
            if quantity is None:
                log.add(where, f"property '{name}' is not a number or a quantity like '18.5 kW'")
                return None
            constants[name] = float(quantity.magnitude)
            quantities[name] = quantity
        else:
            log.add(where, f"unknown name '{name}': not a signal or numeric property of the twin")
            return None
    if quiet:
        return None
    declared = parse_unit(signals[item.key].unit)
    try:
        natural = result_unit(item.expression, quantities)
    except UnitError as err:
        log.add(where, f"{err} (the signal's unit is '{symbol(declared)}')")
        return None
    try:
        scale, shift = linear_conversion(natural, declared)
    except UnitError as err:
        if natural.dimensionality == declared.dimensionality:  # e.g. a difference vs degC
            log.add(where, f"expression gives {symbol(natural)}: {err}")
            return None
        log.add(
            where,
            f"expression gives {symbol(natural)} ({natural.dimensionality}), which cannot be "
            f"expressed in the signal's unit '{symbol(declared)}' ({declared.dimensionality})",
        )
        return None
    return DerivedDef(
        expression=item.expression,
        inputs=inputs,
        constants=constants,
        evaluate=compile_numeric(item.expression, 1.0),
        scale=scale,
        shift=shift,
    )


def _constant(value: object) -> PintQuantity | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return registry().Quantity(float(value), "dimensionless")
    if isinstance(value, str):
        try:
            return parse_quantity(value)
        except UnitError:
            return None
    return None


def _order(
    resolved: Mapping[str, DerivedDef], pending: list[PendingDerived], log: ProblemLog
) -> list[str]:
    """Derived signals so that each comes after the derived signals it reads."""
    paths = {p.key: p.location.path for p in pending}
    order: list[str] = []
    state: dict[str, int] = {}  # 1 visiting, 2 done
    placed: set[str] = set()

    def visit(key: str, trail: list[str]) -> bool:
        if state.get(key) == 2:
            return key in placed
        if state.get(key) == 1:
            cycle = [*trail[trail.index(key) :], key]
            log.add((*paths[key], "expr"), "derived signals form a cycle: " + " -> ".join(cycle))
            return False
        state[key] = 1
        ok = all(
            visit(dep, [*trail, key]) for dep in resolved[key].inputs.values() if dep in resolved
        )
        state[key] = 2
        if ok:
            order.append(key)
            placed.add(key)
        return ok

    for key in resolved:
        visit(key, [])
    return order

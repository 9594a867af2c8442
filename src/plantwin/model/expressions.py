"""Derived-signal expressions: a small, safe arithmetic language over signal arrays.

An expression is parsed with :mod:`ast` and only a whitelist of node types is accepted:
numbers, names (``power``, ``spindle.power``), arithmetic, comparisons, ``and``/``or``/``not``,
``a if cond else b`` and a fixed set of functions. Nothing is ever passed to ``eval``. The same
tree is evaluated twice: once with pint quantities at load time, to check and convert units,
and at run time on numpy arrays, vectorised over a batch.
"""

from __future__ import annotations

import ast
import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pint

from plantwin.model.units import PintQuantity, UnitError, registry

Array = np.ndarray[Any, np.dtype[np.float64]]
Evaluator = Callable[[Mapping[str, Array]], Array]

_BINARY: dict[type[ast.operator], Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.Pow: operator.pow,
    ast.Mod: operator.mod,
}
_COMPARE: dict[type[ast.cmpop], Callable[[Any, Any], Any]] = {
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
}
# name -> (numpy implementation, number of arguments or None for 2+)
_FUNCTIONS: dict[str, tuple[Callable[..., Any], int | None]] = {
    "abs": (np.abs, 1),
    "sqrt": (np.sqrt, 1),
    "exp": (np.exp, 1),
    "log": (np.log, 1),
    "log10": (np.log10, 1),
    "min": (np.minimum, None),
    "max": (np.maximum, None),
    "clip": (np.clip, 3),
    "where": (np.where, 3),
}
_DIMENSIONLESS_ARGS = {"exp", "log", "log10"}


class ExpressionError(ValueError):
    """The expression is not valid; the message says which part and why."""


@dataclass(frozen=True, slots=True)
class Expression:
    """A parsed expression and the dotted names it reads, in order of first use."""

    text: str
    tree: ast.expr
    names: tuple[str, ...]


def parse(text: str) -> Expression:
    try:
        module = ast.parse(text.strip(), mode="eval")
    except SyntaxError as err:
        msg = f"cannot parse expression {text!r}: {err.msg}"
        raise ExpressionError(msg) from err
    names: list[str] = []
    _check(module.body, names)
    return Expression(text=text, tree=module.body, names=tuple(dict.fromkeys(names)))


def dotted_name(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = dotted_name(node.value)
        return None if base is None else f"{base}.{node.attr}"
    return None


def _check(node: ast.expr, names: list[str]) -> None:  # noqa: PLR0912 - one branch per node kind
    if isinstance(node, ast.Constant):
        if isinstance(node.value, bool) or not isinstance(node.value, int | float):
            msg = f"only numbers may appear as constants, not {node.value!r}"
            raise ExpressionError(msg)
    elif isinstance(node, ast.Name | ast.Attribute):
        name = dotted_name(node)
        if name is None:
            msg = "attribute access is allowed only on signal names (e.g. spindle.power)"
            raise ExpressionError(msg)
        if any(part.startswith("_") for part in name.split(".")):
            msg = f"name {name!r} is not allowed: names may not start with '_'"
            raise ExpressionError(msg)
        names.append(name)
    elif isinstance(node, ast.BinOp):
        if type(node.op) not in _BINARY:
            msg = f"operator {type(node.op).__name__} is not allowed"
            raise ExpressionError(msg)
        _check(node.left, names)
        _check(node.right, names)
    elif isinstance(node, ast.UnaryOp):
        if not isinstance(node.op, ast.USub | ast.UAdd | ast.Not):
            msg = f"operator {type(node.op).__name__} is not allowed"
            raise ExpressionError(msg)
        _check(node.operand, names)
    elif isinstance(node, ast.Compare):
        if any(type(op) not in _COMPARE for op in node.ops):
            msg = "only <, <=, >, >=, == and != comparisons are allowed"
            raise ExpressionError(msg)
        for part in (node.left, *node.comparators):
            _check(part, names)
    elif isinstance(node, ast.BoolOp):
        for part in node.values:
            _check(part, names)
    elif isinstance(node, ast.IfExp):
        for part in (node.test, node.body, node.orelse):
            _check(part, names)
    elif isinstance(node, ast.Call):
        _check_call(node, names)
    else:
        msg = f"{type(node).__name__} is not allowed in an expression"
        raise ExpressionError(msg)


def _check_call(node: ast.Call, names: list[str]) -> None:
    if not isinstance(node.func, ast.Name) or node.func.id not in _FUNCTIONS:
        shown = dotted_name(node.func) or type(node.func).__name__
        allowed = ", ".join(sorted(_FUNCTIONS))
        msg = f"function {shown!r} is not allowed; use one of {allowed}"
        raise ExpressionError(msg)
    if node.keywords:
        msg = f"{node.func.id}() takes no keyword arguments"
        raise ExpressionError(msg)
    arity = _FUNCTIONS[node.func.id][1]
    count = len(node.args)
    if (arity is None and count < 2) or (arity is not None and count != arity):
        need = "2 or more" if arity is None else str(arity)
        msg = f"{node.func.id}() takes {need} arguments, got {count}"
        raise ExpressionError(msg)
    for arg in node.args:
        _check(arg, names)


def evaluate(expr: Expression, values: Mapping[str, Any]) -> Any:
    """Evaluate with numbers, numpy arrays or pint quantities bound to the names."""
    return _eval(expr.tree, values)


def _eval(node: ast.expr, values: Mapping[str, Any]) -> Any:  # noqa: PLR0911
    if isinstance(node, ast.Constant):
        return float(node.value)  # type: ignore[arg-type]  # _check admits numbers only
    if isinstance(node, ast.Name | ast.Attribute):
        return values[dotted_name(node) or ""]
    if isinstance(node, ast.BinOp):
        return _BINARY[type(node.op)](_eval(node.left, values), _eval(node.right, values))
    if isinstance(node, ast.UnaryOp):
        operand = _eval(node.operand, values)
        if isinstance(node.op, ast.Not):
            return np.logical_not(_truth(operand)).astype(np.float64)
        return -operand if isinstance(node.op, ast.USub) else operand
    if isinstance(node, ast.Compare):
        result: Any = True
        left = _eval(node.left, values)
        for op, comparator in zip(node.ops, node.comparators, strict=True):
            right = _eval(comparator, values)
            result = np.logical_and(result, _COMPARE[type(op)](left, right))
            left = right
        return np.asarray(result, dtype=np.float64)
    if isinstance(node, ast.BoolOp):
        parts = [_truth(_eval(v, values)) for v in node.values]
        combine = np.logical_and if isinstance(node.op, ast.And) else np.logical_or
        acc = parts[0]
        for part in parts[1:]:
            acc = combine(acc, part)
        return np.asarray(acc, dtype=np.float64)
    if isinstance(node, ast.IfExp):
        test = _truth(_eval(node.test, values))
        return _where(test, _eval(node.body, values), _eval(node.orelse, values))
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
        args = [_eval(a, values) for a in node.args]
        return _call(node.func.id, args)
    msg = f"cannot evaluate {type(node).__name__}"  # unreachable after _check
    raise ExpressionError(msg)


def _truth(value: Any) -> Any:
    if isinstance(value, pint.Quantity):
        return value.magnitude != 0
    return np.asarray(value) != 0


def _where(test: Any, a: Any, b: Any) -> Any:
    if isinstance(a, pint.Quantity) or isinstance(b, pint.Quantity):
        # Unit check only: both branches must share a dimension; the result takes a's unit.
        qa, qb = _as_quantity(a), _as_quantity(b)
        return qa + qb.to(qa.units) * 0
    return np.where(test, a, b)


def _call(name: str, args: list[Any]) -> Any:
    func = _FUNCTIONS[name][0]
    if any(isinstance(a, pint.Quantity) for a in args):
        return _call_units(name, args)
    if name in ("min", "max"):
        acc = args[0]
        for arg in args[1:]:
            acc = func(acc, arg)
        return acc
    with np.errstate(all="ignore"):
        return func(*args)


def _call_units(name: str, args: list[Any]) -> Any:
    quantities = [_as_quantity(a) for a in args]
    if name in _DIMENSIONLESS_ARGS:
        if not quantities[0].dimensionless:
            msg = f"{name}() needs a dimensionless argument, got {quantities[0].units:~P}"
            raise UnitError(msg)
        return registry().Quantity(1.0, "dimensionless")
    if name == "abs":
        return abs(quantities[0])
    if name == "sqrt":
        return quantities[0] ** 0.5
    if name == "where":
        return _where(True, quantities[1], quantities[2])
    # min, max, clip: every value argument must share the first one's dimension.
    first = quantities[0]
    for other in quantities[1:]:
        first + other.to(first.units) * 0  # raises DimensionalityError on a mismatch
    return first


def _as_quantity(value: Any) -> PintQuantity:
    if isinstance(value, pint.Quantity):
        return value
    return registry().Quantity(float(np.asarray(value).reshape(-1)[0]), "dimensionless")


def result_unit(expr: Expression, units: Mapping[str, PintQuantity]) -> pint.Unit:
    """The unit the expression yields when each name carries the given quantity.

    Raises UnitError with pint's reason when units do not combine (e.g. kW + mm).
    """
    try:
        result = evaluate(expr, units)
    except (pint.DimensionalityError, pint.OffsetUnitCalculusError) as err:
        msg = f"units do not combine in {expr.text!r}: {err}"
        raise UnitError(msg) from err
    if isinstance(result, pint.Quantity):
        return registry().Unit(str(result.units))
    return registry().Unit("dimensionless")


def compile_numeric(expr: Expression, scale: float) -> Evaluator:
    """A function of name -> array giving the expression's value times ``scale``.

    ``scale`` converts the expression's natural unit into the declared unit of the signal.
    """

    def run(values: Mapping[str, Array]) -> Array:
        with np.errstate(all="ignore"):
            out = np.asarray(evaluate(expr, values), dtype=np.float64)
        return out * scale if scale != 1.0 else out

    return run

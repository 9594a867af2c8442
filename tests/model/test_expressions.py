"""Derived-signal expressions: only safe arithmetic parses; numbers and units both evaluate."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from plantwin.model.expressions import ExpressionError, compile_numeric, parse, result_unit
from plantwin.model.units import UnitError, registry


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("__import__('os').system('true')", "not allowed"),
        ("power.__class__", "may not start with '_'"),
        ("[x for x in y]", "ListComp is not allowed"),
        ("x[0]", "Subscript is not allowed"),
        ("lambda: 1", "Lambda is not allowed"),
        ("'text'", "only numbers"),
        ("x @ y", "MatMult is not allowed"),
        ("x is None", "comparisons"),
        ("sum(x, y)", "function 'sum' is not allowed"),
        ("max(x)", "2 or more arguments"),
        ("clip(x, lo=1, hi=2)", "keyword"),
        ("x +", "cannot parse"),
    ],
)
def test_unsafe_or_malformed_expressions_are_rejected(text: str, reason: str) -> None:
    with pytest.raises(ExpressionError, match=reason):
        parse(text)


def test_numeric_evaluation_is_elementwise() -> None:
    expr = parse("where(a > 1, max(a, b) * 2, -a) + abs(b - 4) if not b == 0 else 0")
    run = compile_numeric(expr, 1.0)
    a = np.array([0.5, 2.0, 3.0])
    b = np.array([3.0, 1.0, 0.0])
    expected = np.where(b != 0, np.where(a > 1, np.maximum(a, b) * 2, -a) + np.abs(b - 4), 0)
    np.testing.assert_allclose(run({"a": a, "b": b}), expected)


def test_units_are_checked_and_derived() -> None:
    ureg = registry()
    power, flow = ureg.Quantity(1.0, "kW"), ureg.Quantity(1.0, "m**3/min")
    unit = result_unit(parse("power / flow"), {"power": power, "flow": flow})
    assert unit.dimensionality == ureg.Unit("kW*min/m**3").dimensionality
    with pytest.raises(UnitError, match="do not combine"):
        result_unit(parse("power + flow"), {"power": power, "flow": flow})
    with pytest.raises(UnitError, match="dimensionless argument"):
        result_unit(parse("exp(power)"), {"power": power})
    temp = ureg.Quantity(1.0, "degC")
    delta = result_unit(parse("a - b"), {"a": temp, "b": temp})
    assert ureg.Quantity(1.0, delta).to("K").magnitude == pytest.approx(1.0)


@given(
    st.lists(st.floats(-1e6, 1e6), min_size=1, max_size=20),
    st.lists(st.floats(-1e6, 1e6), min_size=1, max_size=20),
)
def test_arithmetic_matches_numpy(xs: list[float], ys: list[float]) -> None:
    n = min(len(xs), len(ys))
    x, y = np.array(xs[:n]), np.array(ys[:n])
    got = compile_numeric(parse("(x + y) * 0.5 - min(x, y) / 4"), 1.0)({"x": x, "y": y})
    np.testing.assert_allclose(got, (x + y) * 0.5 - np.minimum(x, y) / 4)

"""SampleBatch helpers the hot path relies on."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from plantwin.core.samples import SampleBatch


def _batch(rows: list[tuple[int, int, float]]) -> SampleBatch:
    return SampleBatch.of(
        [r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows]
    ).canonical()


@given(
    raw=st.lists(st.tuples(st.integers(0, 9), st.integers(0, 50), st.floats(-5, 5)), max_size=40),
    derived=st.lists(
        st.tuples(st.integers(10, 19), st.integers(0, 50), st.floats(-5, 5)), max_size=40
    ),
)
def test_merge_disjoint_equals_concat_then_canonical(
    raw: list[tuple[int, int, float]], derived: list[tuple[int, int, float]]
) -> None:
    a, b = _batch(raw), _batch(derived)
    merged = SampleBatch.merge_disjoint(a, b)
    expected = SampleBatch.concat([a, b]).canonical()
    for column in ("signal", "ts", "value", "quality"):
        assert np.array_equal(getattr(merged, column), getattr(expected, column)), column

"""The pure-numpy helpers under DuckDBStore's hot path, checked against plain Python."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from plantwin.core.samples import SampleBatch
from plantwin.store.buffer import SampleBuffer, member_mask

pairs = st.lists(st.tuples(st.integers(0, 3), st.integers(-5, 5)), unique=True, max_size=25)


@given(query=pairs, stored=pairs)
def test_member_mask_is_set_membership(
    query: list[tuple[int, int]], stored: list[tuple[int, int]]
) -> None:
    def columns(rows: list[tuple[int, int]]) -> tuple[np.ndarray, np.ndarray]:
        return np.array([s for s, _ in rows], np.int32), np.array([t for _, t in rows], np.int64)

    mask = member_mask(*columns(query), *columns(stored))
    assert mask.tolist() == [row in set(stored) for row in query]


def test_watermarks_split_fresh_from_late_rows() -> None:
    buffer = SampleBuffer()
    buffer.grow(2)
    buffer.add(SampleBatch.of([0, 0, 1], [5, 9, 3], [0.0, 0.0, 0.0]))
    fresh, late = buffer.split(SampleBatch.of([0, 0, 1, 1], [8, 10, 3, 4], [0.0] * 4))
    assert (fresh.signal.tolist(), fresh.ts.tolist()) == ([0, 1], [10, 4])
    assert (late.signal.tolist(), late.ts.tolist()) == ([0, 1], [8, 3])
    assert buffer.pending_mask(late).tolist() == [False, True]
    assert buffer.maybe_stored(late).tolist() == [False, False]  # nothing committed yet
    batches, upto = buffer.take()
    assert (len(batches), upto, buffer.rows) == (1, 3, 0)
    buffer.restore(batches)
    assert buffer.rows == 3

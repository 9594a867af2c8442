"""The live API's ring and decimation, on hand-made entries."""

from __future__ import annotations

import numpy as np
import pytest

from plantwin.api.live.frames import frame, groups, sample_points
from plantwin.api.live.ring import Entry, Kind, Ring
from plantwin.api.live.selection import Selection
from plantwin.core.samples import SampleBatch

KEYS = ["a", "b", "c"]


def _batch(rows: list[tuple[int, int, float]]) -> SampleBatch:
    sig, ts, value = zip(*rows, strict=True)
    return SampleBatch(
        signal=np.array(sig, np.int32),
        ts=np.array(ts, np.int64),
        value=np.array(value, np.float64),
        quality=np.zeros(len(rows), np.uint8),
    )


def _samples(seq: int, at: float, rows: list[tuple[int, int, float]]) -> Entry:
    return Entry(seq, at, Kind.SAMPLES, "", batch=_batch(rows))


def _selection(mask: list[bool], kinds: frozenset[Kind] = frozenset(Kind)) -> Selection:
    return Selection(
        mask=np.array(mask), twins=frozenset({"t"}), kinds=kinds, interval_s=0.1, key=0
    )


def test_a_point_is_the_newest_sample_with_min_max_and_count() -> None:
    ms = 1_000_000
    entries = [
        _samples(1, 0.0, [(0, 3 * ms, 5.0), (1, 1 * ms, 1.0)]),
        _samples(2, 0.01, [(0, 1 * ms, 9.0), (0, 2 * ms, -2.0), (2, 1 * ms, 7.0)]),
    ]
    points = sample_points(entries, _selection([True, True, False]), KEYS)
    # Signal a: newest by time (3 ms, 5.0) even though it arrived first; spike 9, dip -2.
    assert points == {"a": [3, 5.0, -2.0, 9.0, 3, 0], "b": [1, 1.0, 1.0, 1.0, 1, 0]}


def test_a_frame_accounts_for_filtered_entries_and_keeps_every_selected_record() -> None:
    entries = [
        _samples(5, 0.0, [(2, 1, 1.0)]),  # not selected
        Entry(6, 0.0, Kind.STATES, "t", record={"state": "running"}),
        Entry(7, 0.0, Kind.STATES, "other", record={"state": "idle"}),  # other twin
        Entry(8, 0.0, Kind.ALARMS, "t", record={"action": "activate"}),
    ]
    out = frame(entries, 4, _selection([True, False, False]), KEYS)
    assert out == {
        "type": "frame",
        "seq": [4, 8],
        "states": [{"seq": 6, "state": "running"}],
        "alarms": [{"seq": 8, "action": "activate"}],
    }
    only_samples = _selection([True, False, False], frozenset({Kind.SAMPLES}))
    assert frame(entries, 4, only_samples, KEYS) is None


def test_groups_split_by_arrival_time_at_the_client_interval() -> None:
    entries = [_samples(i + 1, at, [(0, 1, 1.0)]) for i, at in enumerate([0, 0.05, 0.1, 0.35])]
    assert [[e.seq for e in g] for g in groups(entries, 0.1)] == [[1, 2], [3], [4]]


def test_the_ring_drops_oldest_by_count_and_by_samples() -> None:
    ring = Ring(max_entries=3, max_samples=4)
    assert (ring.head, ring.oldest) == (0, 1)
    for seq in range(1, 5):
        ring.append(_samples(seq, 0.0, [(0, seq, 1.0)]))
    assert (ring.oldest, ring.head) == (2, 4)
    assert [e.seq for e in ring.since(3, 10)] == [3, 4]
    ring.append(_samples(5, 0.0, [(0, 5, 1.0), (1, 5, 1.0), (2, 5, 1.0)]))
    assert ring.oldest == 4  # 2 goes (count), then 3 (2 + 1 + 3 samples > 4); 1 + 3 fit
    with pytest.raises(ValueError, match="older than the ring"):
        ring.since(3, 1)


def test_since_reads_the_same_from_either_end() -> None:
    ring = Ring(max_entries=100, max_samples=1_000)
    for seq in range(1, 101):
        ring.append(Entry(seq, 0.0, Kind.EVENTS, "t", record={}))
    assert [e.seq for e in ring.since(10, 3)] == [10, 11, 12]
    assert [e.seq for e in ring.since(95, 3)] == [95, 96, 97]
    assert [e.seq for e in ring.since(99, 5)] == [99, 100]

"""The store contract: every backend (memory, DuckDB, later PostgreSQL) passes it unchanged.

Expected values are computed by hand in each test, not taken from the reference store.
"""

from __future__ import annotations

import asyncio
import math
from dataclasses import replace

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from plantwin.core.auth import Role, Token, User
from plantwin.core.errors import QueryError, StoreError
from plantwin.core.kpis import KpiQuery, KpiRecord
from plantwin.core.records import (
    AlarmEvent,
    AlarmState,
    CommandEvent,
    CommandStatus,
    DeadLetter,
    Event,
    EventKind,
    StateChange,
)
from plantwin.core.samples import SampleBatch
from plantwin.core.store import History, HistoryQuery, RecordQuery, Store
from plantwin.store import DuckDBStore, MemoryStore

from .backends import Backend

NAN = math.nan


def batch(
    signal: list[int], ts: list[int], value: list[float], quality: list[int] | None = None
) -> SampleBatch:
    return SampleBatch.of(signal, ts, value, quality)


async def raw(
    store: Store, signal: int, start: int = -(10**12), end: int = 10**12
) -> list[tuple[int, float, int]]:
    h = await store.history(HistoryQuery(signal=signal, start=start, end=end))
    np.testing.assert_array_equal(h.count, np.ones(len(h), np.int64))
    for column in (h.min, h.max, h.mean):
        np.testing.assert_array_equal(column, h.last)
    return list(zip(h.ts.tolist(), h.last.tolist(), h.quality.tolist(), strict=True))


def assert_history(
    h: History, expected: list[tuple[int, float, float, float, float, int, int]]
) -> None:
    """Rows of (ts, min, max, mean, last, count, quality)."""
    assert h.ts.dtype == np.int64
    assert h.count.dtype == np.int64
    assert h.quality.dtype == np.uint8
    assert h.min.dtype == h.max.dtype == h.mean.dtype == h.last.dtype == np.float64
    got = list(
        zip(
            *(c.tolist() for c in (h.ts, h.min, h.max, h.mean, h.last, h.count, h.quality)),
            strict=True,
        )
    )
    assert len(got) == len(expected), got
    for row, want in zip(got, expected, strict=True):
        assert row == pytest.approx(want, nan_ok=True), (row, want)


# -- signals -----------------------------------------------------------------------------------


async def test_register_gives_dense_stable_ids(store: Store) -> None:
    assert await store.register_signals(["a/x", "b/y"]) == {"a/x": 0, "b/y": 1}
    assert await store.register_signals(["b/y", "c/z", "a/x", "c/z"]) == {
        "b/y": 1,
        "c/z": 2,
        "a/x": 0,
    }
    assert await store.register_signals([]) == {}


async def test_ids_survive_reopen(persistent: Backend) -> None:
    backend = persistent
    async with backend.make() as store:
        await store.register_signals(["a", "b"])
    async with backend.make() as store:
        assert await store.register_signals(["c", "b", "a"]) == {"c": 2, "b": 1, "a": 0}


async def test_append_to_unregistered_signal_is_refused(store: Store) -> None:
    await store.register_signals(["a"])
    with pytest.raises(StoreError, match=r"signal id 3.*register_signals"):
        await store.append(batch([0, 3], [1, 1], [1.0, 1.0]))


# -- history -----------------------------------------------------------------------------------


async def test_raw_history_is_ordered_half_open_and_limited(store: Store) -> None:
    a, b = (await store.register_signals(["a", "b"])).values()
    await store.append(batch([a, a, b, a], [30, 10, 10, 20], [3.0, 1.0, 9.0, 2.0], [0, 1, 0, 2]))
    await store.append(batch([a], [40], [4.0]))
    assert await raw(store, a) == [(10, 1.0, 1), (20, 2.0, 2), (30, 3.0, 0), (40, 4.0, 0)]
    assert await raw(store, a, start=20, end=40) == [(20, 2.0, 2), (30, 3.0, 0)]
    assert await raw(store, b) == [(10, 9.0, 0)]
    h = await store.history(HistoryQuery(signal=a, start=0, end=100, limit=2))
    assert h.ts.tolist() == [10, 20]
    assert len(await store.history(HistoryQuery(signal=b, start=11, end=100))) == 0


async def test_bucketed_history(store: Store) -> None:
    a, b = (await store.register_signals(["a", "b"])).values()
    await store.append(batch([a, a, a, b], [10, 0, 29, 5], [7.0, 1.0, 0.5, 100.0], [0, 0, 0, 7]))
    await store.append(batch([a, a, a, a], [9, -5, 25, 3], [3.0, 2.0, -1.0, 5.0], [4, 0, 2, 1]))
    h = await store.history(HistoryQuery(signal=a, start=-5, end=30, every=10))
    assert_history(
        h,
        [  # (bucket start, min, max, mean, last, count, quality OR)
            (-10, 2.0, 2.0, 2.0, 2.0, 1, 0),
            (0, 1.0, 5.0, 3.0, 3.0, 3, 5),
            (10, 7.0, 7.0, 7.0, 7.0, 1, 0),
            (20, -1.0, 0.5, -0.25, 0.5, 2, 2),
        ],
    )
    # Buckets keep their epoch-aligned start even when the range cuts into them.
    h = await store.history(HistoryQuery(signal=a, start=1, end=26, every=10))
    assert_history(
        h,
        [
            (0, 3.0, 5.0, 4.0, 3.0, 2, 5),
            (10, 7.0, 7.0, 7.0, 7.0, 1, 0),
            (20, -1.0, -1.0, -1.0, -1.0, 1, 2),
        ],
    )
    h = await store.history(HistoryQuery(signal=a, start=-100, end=100, every=10, limit=2))
    assert h.ts.tolist() == [-10, 0]
    h = await store.history(HistoryQuery(signal=a, start=-100, end=100, every=1000))
    assert_history(h, [(-1000, 2.0, 2.0, 2.0, 2.0, 1, 0), (0, -1.0, 7.0, 15.5 / 6, 0.5, 6, 7)])


async def test_bucketed_statistics_ignore_nan_values(store: Store) -> None:
    (a,) = (await store.register_signals(["a"])).values()
    await store.append(
        batch([a] * 5, [0, 1, 2, 10, 11], [NAN, 4.0, 2.0, NAN, NAN], [2, 0, 0, 2, 2])
    )
    h = await store.history(HistoryQuery(signal=a, start=0, end=20, every=10))
    assert_history(h, [(0, 2.0, 4.0, 3.0, 2.0, 3, 2), (10, NAN, NAN, NAN, NAN, 2, 2)])
    rows = await raw(store, a)
    assert math.isnan(rows[0][1])
    assert rows[1:3] == [(1, 4.0, 0), (2, 2.0, 0)]


async def test_bucketed_history_matches_a_plain_computation(store: Store) -> None:
    (a,) = (await store.register_signals(["a"])).values()
    rng = np.random.default_rng(7)
    ts = rng.choice(np.arange(-3000, 3000), size=600, replace=False)
    value = np.round(rng.normal(size=600), 3)
    quality = rng.integers(0, 32, size=600)
    for part in np.array_split(np.arange(600), 6):
        await store.append(
            batch([a] * len(part), ts[part].tolist(), value[part].tolist(), quality[part].tolist())
        )
    every = 250
    buckets: dict[int, list[tuple[int, float, int]]] = {}
    for t, v, q in zip(ts.tolist(), value.tolist(), quality.tolist(), strict=True):
        if -2000 <= t < 2500:
            buckets.setdefault(t // every * every, []).append((t, v, q))
    expected = []
    for start in sorted(buckets):
        rows = sorted(buckets[start])
        values = [v for _, v, _ in rows]
        q_or = 0
        for _, _, q in rows:
            q_or |= q
        expected.append(
            (
                start,
                min(values),
                max(values),
                sum(values) / len(values),
                rows[-1][1],
                len(rows),
                q_or,
            )
        )
    h = await store.history(HistoryQuery(signal=a, start=-2000, end=2500, every=every))
    assert_history(h, expected)


async def test_the_caller_may_reuse_its_arrays_after_append(store: Store) -> None:
    (a,) = (await store.register_signals(["a"])).values()
    value = np.array([1.0, 2.0])
    ts = np.array([1, 2], np.int64)
    await store.append(SampleBatch.of([a, a], ts, value))
    value[:] = 99.0
    ts[:] = 7
    assert await raw(store, a) == [(1, 1.0, 0), (2, 2.0, 0)]


async def test_bad_history_queries(store: Store) -> None:
    await store.register_signals(["a"])
    with pytest.raises(QueryError, match="signal id 5"):
        await store.history(HistoryQuery(signal=5, start=0, end=1))
    with pytest.raises(QueryError, match="limit"):
        await store.history(HistoryQuery(signal=0, start=0, end=1, limit=-1))
    with pytest.raises(ValueError, match="empty"):
        HistoryQuery(signal=0, start=1, end=1)


# -- idempotent writes -------------------------------------------------------------------------


async def test_same_batch_twice_is_stored_once(store: Store) -> None:
    a, b = (await store.register_signals(["a", "b"])).values()
    first = batch([a, a, b], [1, 2, 1], [1.0, 2.0, 3.0])
    await store.append(first)
    await store.append(first)
    await store.flush()
    await store.append(first)
    assert await raw(store, a) == [(1, 1.0, 0), (2, 2.0, 0)]
    assert await raw(store, b) == [(1, 3.0, 0)]
    stats = store.stats()
    assert (stats.committed_samples, stats.pending_samples, stats.duplicates_dropped) == (3, 0, 6)


async def test_first_accepted_sample_wins_across_batches(store: Store) -> None:
    (a,) = (await store.register_signals(["a"])).values()
    await store.append(batch([a, a, a], [1, 2, 3], [1.0, 2.0, 3.0]))
    await store.append(batch([a, a, a], [2, 3, 4], [20.0, 30.0, 40.0], [1, 1, 1]))
    await store.flush()
    await store.append(batch([a, a, a], [3, 4, 5], [300.0, 400.0, 500.0]))
    assert await raw(store, a) == [
        (1, 1.0, 0),
        (2, 2.0, 0),
        (3, 3.0, 0),
        (4, 40.0, 1),
        (5, 500.0, 0),
    ]
    assert store.stats().duplicates_dropped == 4


async def test_last_row_wins_within_one_batch(store: Store) -> None:
    (a,) = (await store.register_signals(["a"])).values()
    await store.append(batch([a, a, a, a], [5, 1, 5, 5], [1.0, 2.0, 3.0, 4.0]))
    assert await raw(store, a) == [(1, 2.0, 0), (5, 4.0, 0)]
    assert store.stats().duplicates_dropped == 2


async def test_out_of_order_samples_are_stored(store: Store) -> None:
    a, b = (await store.register_signals(["a", "b"])).values()
    await store.append(batch([a] * 3, [100, 200, 300], [1.0, 2.0, 3.0]))
    await store.flush()
    await store.append(batch([a] * 4 + [b], [150, 200, 250, 50, 50], [1.5, -2.0, 2.5, 0.5, 9.0]))
    await store.append(batch([a, a], [150, 120], [-1.0, 1.2]))
    assert [t for t, _, _ in await raw(store, a)] == [50, 100, 120, 150, 200, 250, 300]
    assert (await raw(store, a, start=150, end=151)) == [(150, 1.5, 0)]
    assert await raw(store, b) == [(50, 9.0, 0)]
    assert store.stats().duplicates_dropped == 2


async def test_replay_after_reopen_is_dropped(persistent: Backend) -> None:
    backend = persistent
    sent = batch([0, 0, 1, 0], [10, 20, 10, 5], [1.0, 2.0, 3.0, 0.5])
    async with backend.make() as store:
        await store.register_signals(["a", "b"])
        await store.append(sent)
    async with backend.make() as store:
        assert store.stats().committed_samples == 4
        await store.append(sent)  # the demo restarted and replays what it sent before
        await store.append(batch([0, 0, 1], [15, 20, 11], [1.5, 99.0, 3.1]))
        assert await raw(store, 0) == [(5, 0.5, 0), (10, 1.0, 0), (15, 1.5, 0), (20, 2.0, 0)]
        assert await raw(store, 1) == [(10, 3.0, 0), (11, 3.1, 0)]
        stats = store.stats()
        assert (stats.committed_samples, stats.duplicates_dropped) == (6, 5)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    kind=st.sampled_from(["memory", "duckdb"]),
    steps=st.lists(
        st.one_of(
            st.just("flush"),
            st.lists(
                st.tuples(st.integers(0, 2), st.integers(0, 12), st.integers(-3, 3)),
                min_size=1,
                max_size=8,
            ),
        ),
        max_size=12,
    ),
)
def test_any_appends_store_the_union_first_wins(
    kind: str, steps: list[str | list[tuple[int, int, int]]]
) -> None:
    expected: dict[tuple[int, int], float] = {}
    total = 0
    for step in steps:
        if isinstance(step, list):
            total += len(step)
            in_batch = {(s, t): float(v) for s, t, v in step}  # the last in a batch wins
            for key, v in in_batch.items():
                expected.setdefault(key, v)  # the first batch wins

    async def run() -> None:
        store: Store = (
            MemoryStore() if kind == "memory" else DuckDBStore(path=":memory:", flush_rows=4)
        )
        async with store:
            await store.register_signals(["a", "b", "c"])
            for step in steps:
                if isinstance(step, list):
                    s, t, v = zip(*step, strict=True)
                    await store.append(batch(list(s), list(t), [float(x) for x in v]))
                else:
                    await store.flush()
            stats = store.stats()
            assert (
                stats.committed_samples + stats.pending_samples + stats.duplicates_dropped == total
            )
            got = {(s, t): v for s in range(3) for t, v, _ in await raw(store, s)}
            assert got == expected
            assert store.stats().duplicates_dropped == total - len(expected)
            # latest is the newest stored row of each signal (history() flushed everything)
            newest: dict[int, tuple[int, float]] = {}
            for (sig, when), value in expected.items():
                if sig not in newest or when > newest[sig][0]:
                    newest[sig] = (when, value)
            latest = await store.latest()
            assert latest.signal.tolist() == sorted(newest)
            assert list(zip(latest.ts.tolist(), latest.value.tolist(), strict=True)) == [
                newest[s] for s in sorted(newest)
            ]

    asyncio.run(run())


# -- latest ------------------------------------------------------------------------------------


async def test_latest_only_moves_forward(store: Store) -> None:
    a, b, _ = (await store.register_signals(["a", "b", "c"])).values()
    await store.append(batch([a, a, b], [10, 20, 5], [1.0, 2.0, 3.0], [0, 4, 0]))
    await store.flush()
    await store.append(batch([a, b], [15, 6], [1.5, 3.5]))  # a: older than latest; b: newer
    await store.flush()
    latest = await store.latest()
    assert latest.signal.dtype == np.int32
    assert latest.ts.dtype == np.int64
    assert latest.value.dtype == np.float64
    assert latest.quality.dtype == np.uint8
    assert latest.signal.tolist() == [a, b]  # signals without samples are absent
    assert latest.ts.tolist() == [20, 6]
    assert latest.value.tolist() == [2.0, 3.5]
    assert latest.quality.tolist() == [4, 0]


# -- records -----------------------------------------------------------------------------------

TWINS = [
    "changwon",
    "changwon.L1",
    "changwon.L1.mill1",
    "changwon.L1.mill1.spindle",
    "changwon.L1.mill10",
    "changwon.L1.mill1_x",
]


async def test_records_round_trip(store: Store) -> None:
    change = StateChange(
        ts=5, twin="changwon.L1.mill1", state="running", previous="idle", previous_since=2
    )
    first = StateChange(ts=1, twin="changwon.L1.mill1", state="idle", previous=None)
    event = Event(
        ts=6,
        twin="changwon.L1",
        kind=EventKind.MAINTENANCE,
        message="bearing changed",
        data={"part": "6205-2RS", "hours": 1200.5, "count": 3, "planned": True},
    )
    letter = DeadLetter(
        received=7, source="mqtt", reason="not JSON", raw=b"\x00\xffoops", location="line 3"
    )
    await store.append_records([change, event, letter, first])
    assert await store.records(RecordQuery(kind=StateChange)) == [change, first]
    assert await store.records(RecordQuery(kind=Event)) == [event]
    assert await store.records(RecordQuery(kind=DeadLetter)) == [letter]
    (got,) = await store.records(RecordQuery(kind=Event))
    assert isinstance(got, Event)
    assert type(got.data["count"]) is int
    assert type(got.data["hours"]) is float


async def test_alarm_events_round_trip(store: Store) -> None:
    active = AlarmEvent(
        ts=10,
        alarm="changwon.L1.mill1.spindle:vibration_high",
        twin="changwon.L1.mill1.spindle",
        action="activate",
        state=AlarmState.UNACKNOWLEDGED,
        previous=AlarmState.NORMAL,
        priority="high",
        active=True,
        acked=False,
        first_out=True,
        value=4.61,
        message="Spindle vibration 4.6 mm/s",
        since=10,
    )
    shelved = AlarmEvent(
        ts=12,
        alarm="changwon.L1.mill1:down_long",
        twin="changwon.L1.mill1",
        action="shelve",
        state=AlarmState.SHELVED,
        previous=AlarmState.NORMAL,
        priority="medium",
        active=False,
        acked=True,
        shelved_until=3_600_000_000_012,
        annunciated=False,
        user="kim",
        reason="sensor replaced, 한글 ok",
    )
    await store.append_records([active, shelved])
    assert await store.records(RecordQuery(kind=AlarmEvent)) == [shelved, active]
    mill = await store.records(RecordQuery(kind=AlarmEvent, twin="changwon.L1.mill1", exact=True))
    assert mill == [shelved]
    assert await store.records(RecordQuery(kind=AlarmEvent, start=11)) == [shelved]
    # Retention keeps each alarm's newest event: the alarm's state after a restart.
    cleared = replace(active, ts=11, action="clear", state=AlarmState.RTN_UNACKNOWLEDGED)
    await store.append_records([cleared])
    assert (await store.prune(older_than=100))["alarm_events"] == 1  # only the oldest goes
    assert await store.records(RecordQuery(kind=AlarmEvent)) == [shelved, cleared]


async def test_command_events_round_trip(store: Store) -> None:
    asked = CommandEvent(
        ts=10,
        id="c1",
        twin="changwon.compressor1",
        command="set_pressure",
        status=CommandStatus.PENDING_APPROVAL,
        previous=None,
        requested_by="kim",
        user="kim",
        parameters={"pressure": 6.5, "mode": "eco", "count": 3, "hold": True},
        reason="save energy, 한글 ok",
    )
    approved = CommandEvent(
        ts=12,
        id="c1",
        twin="changwon.compressor1",
        command="set_pressure",
        status=CommandStatus.ACCEPTED,
        previous=CommandStatus.PENDING_APPROVAL,
        requested_by="kim",
        user="lee",
        parameters={"pressure": 6.5, "mode": "eco", "count": 3, "hold": True},
    )
    other = CommandEvent(
        ts=11,
        id="c2",
        twin="changwon.L1.mill1",
        command="set_feed_override",
        status=CommandStatus.FAILED,
        previous=CommandStatus.ACCEPTED,
        requested_by="park",
        message="demo: BadOutOfRange",
    )
    await store.append_records([asked, approved, other])
    assert await store.records(RecordQuery(kind=CommandEvent)) == [approved, other, asked]
    (got,) = await store.records(RecordQuery(kind=CommandEvent, twin="changwon.L1"))
    assert got == other
    newest = (await store.records(RecordQuery(kind=CommandEvent, limit=1)))[0]
    assert isinstance(newest, CommandEvent)
    assert type(newest.parameters["count"]) is int
    assert type(newest.parameters["hold"]) is bool
    assert (await store.prune(older_than=11))["command_events"] == 1


async def test_a_command_event_with_a_non_finite_parameter_is_refused(store: Store) -> None:
    bad = CommandEvent(
        ts=1,
        id="c",
        twin="m",
        command="x",
        status=CommandStatus.ACCEPTED,
        previous=None,
        requested_by="kim",
        parameters={"v": float("nan")},
    )
    with pytest.raises(StoreError, match="non-finite parameter 'v'"):
        await store.append_records([bad])
    assert await store.records(RecordQuery(kind=CommandEvent)) == []


async def test_records_of_a_twin_and_its_descendants_newest_first(store: Store) -> None:
    await store.append_records(
        [StateChange(ts=i, twin=t, state=f"s{i}", previous=None) for i, t in enumerate(TWINS)]
    )
    await store.append_records(
        [Event(ts=i, twin=t, kind=EventKind.NOTE, message=t) for i, t in enumerate(TWINS)]
    )
    got = await store.records(RecordQuery(kind=StateChange, twin="changwon.L1.mill1"))
    assert [(r.ts, r.twin) for r in got if isinstance(r, StateChange)] == [
        (3, "changwon.L1.mill1.spindle"),
        (2, "changwon.L1.mill1"),
    ]
    events = await store.records(RecordQuery(kind=Event, twin="changwon.L1"))
    assert [r.twin for r in events if isinstance(r, Event)] == list(reversed(TWINS[1:]))
    assert len(await store.records(RecordQuery(kind=Event, twin="changwon"))) == len(TWINS)
    assert await store.records(RecordQuery(kind=Event, twin="changwon.L2")) == []


async def test_exact_records_are_the_twins_own(store: Store) -> None:
    twins = ["a", "a.b", "a.b.c", "a.bc", "a.b", "a.b.c"]
    await store.append_records(
        [StateChange(ts=i, twin=t, state=f"s{i}", previous=None) for i, t in enumerate(twins)]
    )
    await store.append_records(
        [Event(ts=i, twin=t, kind=EventKind.NOTE, message=f"m{i}") for i, t in enumerate(twins)]
    )
    own = await store.records(RecordQuery(kind=StateChange, twin="a.b", exact=True))
    assert [(r.ts, r.twin) for r in own if isinstance(r, StateChange)] == [(4, "a.b"), (1, "a.b")]
    newest = await store.records(RecordQuery(kind=StateChange, twin="a.b", exact=True, limit=1))
    assert [r.ts for r in newest if isinstance(r, StateChange)] == [4]
    events = await store.records(RecordQuery(kind=Event, twin="a.b", exact=True, end=4))
    assert [r.message for r in events if isinstance(r, Event)] == ["m1"]
    subtree = await store.records(RecordQuery(kind=StateChange, twin="a.b"))
    assert [r.ts for r in subtree if isinstance(r, StateChange)] == [5, 4, 2, 1]
    assert await store.records(RecordQuery(kind=Event, twin="a.b.c.d", exact=True)) == []


async def test_records_time_range_limit_and_ties(store: Store) -> None:
    await store.append_records(
        [Event(ts=t, twin="p", kind=EventKind.NOTE, message=f"m{t}") for t in range(10)]
    )
    await store.append_records([Event(ts=5, twin="p", kind=EventKind.NOTE, message="later at 5")])
    got = await store.records(RecordQuery(kind=Event, start=3, end=7))
    assert [r.message for r in got if isinstance(r, Event)] == [
        "m6",
        "later at 5",
        "m5",
        "m4",
        "m3",
    ]
    got = await store.records(RecordQuery(kind=Event, start=3, limit=2))
    assert [r.message for r in got if isinstance(r, Event)] == ["m9", "m8"]
    letters = [DeadLetter(received=t, source="http", reason="bad", raw=b"x") for t in (1, 2, 3)]
    await store.append_records(letters)
    assert await store.records(RecordQuery(kind=DeadLetter, end=3)) == [letters[1], letters[0]]


async def test_bad_records_and_queries(store: Store) -> None:
    with pytest.raises(QueryError, match=r"dead letters.*twin"):
        await store.records(RecordQuery(kind=DeadLetter, twin="changwon"))
    with pytest.raises(QueryError, match=r"exact=True\) needs a twin"):
        await store.records(RecordQuery(kind=Event, exact=True))
    good = Event(ts=1, twin="p", kind=EventKind.NOTE, message="fine")
    bad = Event(ts=2, twin="p.q", kind=EventKind.NOTE, message="x", data={"rate": math.inf})
    with pytest.raises(StoreError, match=r"twin 'p.q' at ts 2.*data\['rate'\]"):
        await store.append_records([good, bad])
    assert await store.records(RecordQuery(kind=Event)) == []  # all or nothing


async def test_records_survive_reopen(persistent: Backend) -> None:
    backend = persistent
    old = StateChange(ts=1, twin="m", state="idle", previous=None)
    async with backend.make() as store:
        await store.append_records([old])
    new = StateChange(ts=1, twin="m", state="running", previous="idle", previous_since=1)
    async with backend.make() as store:
        await store.append_records([new])
        assert await store.records(RecordQuery(kind=StateChange)) == [new, old]


# -- KPIs --------------------------------------------------------------------------------------


def kpi(twin: str, start: int, **kw: object) -> KpiRecord:
    fields: dict[str, object] = {
        "twin": twin,
        "period": "shift",
        "start": start,
        "end": start + 10,
        "label": f"shift at {start}",
        "computed": start + 20,
        "values": {"oee": 0.5, "mtbf_h": None},
        "inputs": {"pbt_s": 450.0, "pq": 700.0},
        "flags": ("state unknown",),
    }
    fields.update(kw)
    return KpiRecord(**fields)  # type: ignore[arg-type]


async def test_kpis_round_trip_oldest_first_and_half_open(store: Store) -> None:
    records = [kpi("L.m1", 20), kpi("L.m1", 0), kpi("L.m1", 10), kpi("L.m2", 10)]
    await store.put_kpis(records)
    await store.put_kpis([kpi("L.m1", 10, period="day"), kpi("L.m1", 30, flags=())])
    got = await store.kpis(KpiQuery(twin="L.m1", period="shift", start=0, end=30))
    assert got == [records[1], records[2], records[0]]  # start in [0, 30): not the one at 30
    assert got[0].values["mtbf_h"] is None
    assert got[0].flags == ("state unknown",)
    assert await store.kpis(KpiQuery(twin="L.m1", period="shift", start=5, end=100, limit=2)) == [
        records[2],
        records[0],
    ]
    assert await store.kpis(KpiQuery(twin="L", period="shift", start=0, end=100)) == []  # exact
    day = await store.kpis(KpiQuery(twin="L.m1", period="day", start=0, end=100))
    assert [r.start for r in day] == [10]


async def test_kpi_record_is_replaced_by_twin_period_and_start(store: Store) -> None:
    await store.put_kpis([kpi("m", 0)])
    newer = kpi("m", 0, computed=99, values={"oee": 0.6}, inputs={}, flags=())
    await store.put_kpis([newer])
    assert await store.kpis(KpiQuery(twin="m", period="shift", start=0, end=1)) == [newer]


async def test_bad_kpi_records_are_refused_whole(store: Store) -> None:
    with pytest.raises(StoreError, match=r"'m'.*end 0 is not after start 0"):
        await store.put_kpis([kpi("m", 5), kpi("m", 0, end=0)])
    with pytest.raises(StoreError, match="oee is nan"):
        await store.put_kpis([kpi("m", 0, values={"oee": NAN})])
    assert await store.kpis(KpiQuery(twin="m", period="shift", start=0, end=100)) == []
    with pytest.raises(QueryError, match="limit"):
        await store.kpis(KpiQuery(twin="m", period="shift", start=0, end=1, limit=-1))


async def test_kpis_survive_reopen_and_are_not_pruned(persistent: Backend) -> None:
    backend = persistent
    async with backend.make() as store:
        await store.put_kpis([kpi("m", 0)])
    async with backend.make() as store:
        await store.prune(older_than=1000)
        assert await store.kpis(KpiQuery(twin="m", period="shift", start=0, end=1)) == [kpi("m", 0)]


# -- retention, meta, stats --------------------------------------------------------------------


async def test_prune_counts_per_table(store: Store) -> None:
    a, b = (await store.register_signals(["a", "b"])).values()
    await store.append(batch([a] * 10, list(range(10)), [float(i) for i in range(10)]))
    await store.flush()
    await store.append(batch([b] * 4, [1, 3, 5, 7], [1.0, 3.0, 5.0, 7.0]))
    await store.append_records(
        [
            StateChange(ts=4, twin="m", state="idle", previous=None),
            StateChange(ts=5, twin="m", state="run", previous="idle"),
            Event(ts=0, twin="m", kind=EventKind.NOTE, message="old"),
            DeadLetter(received=4, source="s", reason="r", raw=b""),
            DeadLetter(received=3, source="s", reason="r", raw=b""),
        ]
    )
    counts = await store.prune(older_than=5)
    assert counts == {
        "samples": 7,
        "state_changes": 1,
        "events": 1,
        "dead_letters": 2,
        "alarm_events": 0,
        "command_events": 0,
    }
    assert [t for t, _, _ in await raw(store, a)] == [5, 6, 7, 8, 9]
    assert [t for t, _, _ in await raw(store, b)] == [5, 7]
    assert store.stats().committed_samples == 7
    assert [
        r.ts
        for r in await store.records(RecordQuery(kind=StateChange))
        if isinstance(r, StateChange)
    ] == [5]
    await store.prune(older_than=100)
    latest = await store.latest()  # the newest values stay known after their history is gone
    assert latest.ts.tolist() == [9, 7]
    assert await store.prune(older_than=100) == dict.fromkeys(counts, 0)


async def test_meta(store: Store) -> None:
    assert await store.get_meta("demo.snapshot") is None
    await store.put_meta("demo.snapshot", b"\x00one")
    await store.put_meta("demo.snapshot", b"\x00two")
    await store.put_meta("empty", b"")
    assert await store.get_meta("demo.snapshot") == b"\x00two"
    assert await store.get_meta("empty") == b""
    with pytest.raises(StoreError, match="reserved"):
        await store.put_meta("store.schema_version", b"9")


async def test_stats_account_for_every_sample(store: Store) -> None:
    (a,) = (await store.register_signals(["a"])).values()
    await store.append(batch([a] * 6, [1, 2, 3, 3, 4, 5], [0.0] * 6))
    await store.append(batch([a] * 3, [5, 6, 7], [0.0] * 3))
    stats = store.stats()
    assert stats.committed_samples + stats.pending_samples == 7
    assert stats.duplicates_dropped == 2
    await store.flush()
    stats = store.stats()
    assert (stats.committed_samples, stats.pending_samples, stats.duplicates_dropped) == (7, 0, 2)
    assert stats.flushes >= 0


async def test_a_closed_store_refuses_work(backend: Backend) -> None:
    store = backend.make()
    async with store:
        pass
    with pytest.raises(StoreError, match="not open"):
        await store.register_signals(["a"])
    with pytest.raises(StoreError, match="not open"):
        await store.records(RecordQuery(kind=Event))


# -- users and tokens --------------------------------------------------------------------------

DIGEST_A, DIGEST_B = "a" * 64, "0123456789abcdef" * 4


async def test_users_are_replaced_by_name_and_listed_by_name(store: Store) -> None:
    assert await store.users() == []
    kim = User(name="kim", role=Role.OPERATOR, created=5, password="scrypt$x")
    await store.put_user(User(name="lee", role=Role.VIEWER, created=1))
    await store.put_user(kim)
    await store.put_user(replace(kim, role=Role.ENGINEER, disabled=True))
    assert await store.users() == [
        replace(kim, role=Role.ENGINEER, disabled=True),
        User(name="lee", role=Role.VIEWER, created=1),
    ]
    with pytest.raises(StoreError, match="user name 'no spaces' is not allowed"):
        await store.put_user(User(name="no spaces", role=Role.VIEWER, created=1))


async def test_tokens_are_found_by_digest_and_replaced_by_id(store: Store) -> None:
    await store.put_user(User(name="kim", role=Role.OPERATOR, created=0))
    await store.put_user(User(name="lee", role=Role.ADMIN, created=0))
    first = Token(id="t2", user="kim", digest=DIGEST_A, created=10, expires=100, label="login")
    second = Token(id="t1", user="lee", digest=DIGEST_B, created=20)
    await store.put_token(second)
    await store.put_token(first)
    assert await store.token_by_digest(DIGEST_A) == first
    assert await store.token_by_digest("f" * 64) is None
    assert await store.tokens() == [first, second]  # oldest first
    assert await store.tokens("lee") == [second]
    assert await store.tokens("nobody") == []
    revoked = replace(first, revoked=50)
    await store.put_token(revoked)
    assert await store.token_by_digest(DIGEST_A) == revoked
    assert len(await store.tokens()) == 2


async def test_bad_tokens_are_refused(store: Store) -> None:
    await store.put_user(User(name="kim", role=Role.OPERATOR, created=0))
    await store.put_token(Token(id="t1", user="kim", digest=DIGEST_A, created=0))
    with pytest.raises(StoreError, match="token 't2': no user 'lee'"):
        await store.put_token(Token(id="t2", user="lee", digest=DIGEST_B, created=0))
    with pytest.raises(StoreError, match="64 lowercase hex digits"):
        await store.put_token(Token(id="t2", user="kim", digest="secret", created=0))
    with pytest.raises(StoreError, match="belongs to token 't1'"):
        await store.put_token(Token(id="t2", user="kim", digest=DIGEST_A, created=0))
    assert [t.id for t in await store.tokens()] == ["t1"]


async def test_users_and_tokens_survive_reopen_and_prune(persistent: Backend) -> None:
    user = User(name="kim", role=Role.ADMIN, created=1, password="scrypt$h")
    token = Token(id="t1", user="kim", digest=DIGEST_A, created=2, expires=3, revoked=4)
    async with persistent.make() as store:
        await store.put_user(user)
        await store.put_token(token)
        await store.prune(older_than=10**18)  # retention never removes accounts
    async with persistent.make() as store:
        assert await store.users() == [user]
        assert await store.tokens() == [token]

"""Store-and-forward: failed writes wait in a disk spool and are delivered once, in order.

The store fault is real: the kernel refuses to grow the store's files (see disk_faults.py),
so DuckDB's commit fails as it would on a full disk; nothing in the store is mocked.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import subprocess
import sys
import threading
from pathlib import Path

import duckdb
import numpy as np
import pytest

from plantwin.core.errors import StoreError
from plantwin.core.samples import SampleBatch
from plantwin.store import DuckDBStore
from plantwin.store.spool import SampleSpool
from tests.store.disk_faults import store_disk_refuses_writes, wal_size

KILL_WRITER = Path(__file__).with_name("spool_kill_writer.py")


def rows(signals: int, start: int, count: int) -> SampleBatch:
    """``count`` timestamps from ``start`` for each of ``signals`` signals; value = ts."""
    ts = np.arange(start, start + count, dtype=np.int64)
    return SampleBatch.of(
        np.repeat(np.arange(signals), count), np.tile(ts, signals), np.tile(ts, signals) * 1.0
    )


def stored_pairs(path: Path) -> tuple[int, int, list[tuple[int, int]]]:
    """(rows, distinct (signal, ts) pairs, the pairs sorted) of the samples table."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        [(n, distinct)] = con.execute(
            "SELECT count(*), count(DISTINCT (signal, ts)) FROM samples"
        ).fetchall()
        pairs = con.execute("SELECT signal, ts FROM samples ORDER BY signal, ts").fetchall()
    finally:
        con.close()
    return n, distinct, [(int(s), int(t)) for s, t in pairs]


def expected(signals: int, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    ts = sorted({t for start, end in spans for t in range(start, end)})
    return [(s, t) for s in range(signals) for t in ts]


# --- the spool alone ---------------------------------------------------------------------


def test_segments_come_back_in_order_and_survive_a_reopen(tmp_path: Path) -> None:
    spool = SampleSpool(tmp_path / "spool", max_bytes=10**6, wall_ns=lambda: 5_000)
    spool.open()
    for start in (0, 100, 200):
        assert spool.put(rows(2, start, 100))
    (tmp_path / "spool" / "000000000003-9-9.arrow.tmp").write_bytes(b"half a segment")
    again = SampleSpool(tmp_path / "spool", max_bytes=10**6)
    again.open()
    assert not list((tmp_path / "spool").glob("*.tmp"))  # an unfinished write is discarded
    stats = again.stats()
    assert (stats.samples, stats.oldest_ns, len(again)) == (600, 5_000, 3)
    assert stats.bytes == spool.stats().bytes > 600 * 21
    starts = []
    while (segment := again.oldest()) is not None:
        batch = again.read(segment)
        assert batch is not None
        starts.append(int(batch.ts.min()))
        again.remove(segment)
    assert starts == [0, 100, 200]
    assert (again.stats().samples, again.stats().bytes, again.stats().drained) == (0, 0, 600)


def test_a_full_spool_refuses_visibly_and_drops_nothing(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    probe = SampleSpool(tmp_path / "probe", max_bytes=10**6)
    probe.open()
    probe.put(rows(1, 0, 100))
    one = probe.stats().bytes
    spool = SampleSpool(tmp_path / "spool", max_bytes=2 * one + 10)
    spool.open()
    with caplog.at_level(logging.ERROR, "plantwin.store.spool"):
        results = [spool.put(rows(1, i * 100, 100)) for i in range(4)]
    assert results == [True, True, False, False]
    stats = spool.stats()
    assert (stats.samples, stats.refusals, stats.dropped, stats.spooled) == (200, 2, 0, 200)
    assert len(spool) == 2
    assert not list((tmp_path / "spool").glob("*.tmp"))
    assert len([r for r in caplog.records if "is full" in r.message]) == 1  # once per spell


def test_an_unreadable_segment_is_set_aside_and_counted(tmp_path: Path) -> None:
    spool = SampleSpool(tmp_path, max_bytes=10**6)
    spool.open()
    spool.put(rows(1, 0, 10))
    spool.put(rows(1, 10, 10))
    first = spool.oldest()
    assert first is not None
    first.path.write_bytes(b"not arrow")
    assert spool.read(first) is None
    assert (spool.stats().dropped, spool.stats().samples) == (10, 10)
    assert first.path.with_name(first.path.name + ".bad").exists()
    second = spool.oldest()
    assert second is not None
    assert spool.read(second) is not None


def test_stats_stay_consistent_while_a_flush_puts_and_a_drain_removes(tmp_path: Path) -> None:
    """The store puts from one worker thread while the drain reads and removes in another."""
    spool = SampleSpool(tmp_path, max_bytes=10**9)
    spool.open()
    done = threading.Event()
    snapshots = []

    def drain() -> None:
        while not done.is_set() or len(spool):
            segment = spool.oldest()
            if segment is not None and spool.read(segment) is not None:
                spool.remove(segment)

    drainer = threading.Thread(target=drain)
    drainer.start()
    for i in range(150):
        spool.put(rows(1, i * 10, 10))
        snapshots.append(spool.stats())
    done.set()
    drainer.join(10)
    for stats in [*snapshots, spool.stats()]:
        assert stats.samples == stats.spooled - stats.drained
        assert (stats.samples == 0) == (stats.bytes == 0) == (stats.oldest_ns is None)
    assert spool.stats().drained == 1_500


def test_a_bound_below_one_byte_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="at least 1 byte"):
        SampleSpool(tmp_path, max_bytes=0)


# --- the store with a spool, under a real write failure ------------------------------------


async def test_samples_flow_into_the_spool_while_the_disk_refuses_and_land_once(
    tmp_path: Path,
) -> None:
    path = tmp_path / "s.duckdb"
    spool = SampleSpool(tmp_path / "s.spool", max_bytes=10**8)
    async with DuckDBStore(path=path, flush_rows=10**6, flush_interval=3600, spool=spool) as store:
        await store.register_signals(["a", "b", "c"])
        await store.append(rows(3, 0, 20_000))  # grows the write-ahead log
        await store.flush()
        committed = store.stats().committed_samples
        assert not (tmp_path / "s.spool").exists()  # made by the first failed write only
        with store_disk_refuses_writes(path):
            for i in range(10):
                # Each batch repeats half of the one before: duplicates keep arriving.
                await store.append(rows(3, 20_000 + i * 100, 200))
                await store.flush()  # returns: the rows are durable in the spool
            failing = store.stats()
            with pytest.raises(StoreError, match="File too large"):
                await store.drain()  # the store is still down: the segment stays
        assert failing.committed_samples == committed
        assert failing.spooled_samples == 10 * 3 * 200
        assert failing.spooled_bytes > 0
        assert failing.spool_oldest_age_s >= 0
        await store.append(rows(3, 21_000, 100))  # the disk is back: written directly
        await store.flush()
        assert await store.drain() == 10 * 3 * 200
        after = store.stats()
        assert (after.spooled_samples, after.spooled_bytes, after.spool_dropped) == (0, 0, 0)
        # The repeated halves (spooled twice, dropped by the drain), and the last spooled
        # half that the direct write after the fault had already stored.
        assert after.duplicates_dropped == 9 * 3 * 100 + 3 * 100
        assert not list((tmp_path / "s.spool").iterdir())
    n, distinct, pairs = stored_pairs(path)
    assert n == distinct  # every (signal, ts) once
    assert pairs == expected(3, [(0, 20_000), (20_000, 21_100)])


async def test_the_background_drain_delivers_after_the_store_returns(tmp_path: Path) -> None:
    path = tmp_path / "bg.duckdb"
    spool = SampleSpool(tmp_path / "bg.spool", max_bytes=10**8)
    async with DuckDBStore(path=path, flush_rows=500, flush_interval=0.05, spool=spool) as store:
        await store.register_signals(["a", "b"])
        await store.append(rows(2, 0, 30_000))
        await store.flush()
        with store_disk_refuses_writes(path):
            for i in range(20):
                await store.append(rows(2, 30_000 + i * 50, 50))  # size trigger: 500 rows
            await store.flush()
            assert store.stats().spooled_samples == 2_000
        for _ in range(200):
            if store.stats().spooled_samples == 0:
                break
            await asyncio.sleep(0.02)
        assert store.stats().spooled_samples == 0
        assert store.spool is not None
        assert store.spool.stats().drained == 2_000
    n, distinct, pairs = stored_pairs(path)
    assert n == distinct
    assert pairs == expected(2, [(0, 31_000)])


async def test_without_a_spool_a_failed_write_stays_pending_in_memory(tmp_path: Path) -> None:
    path = tmp_path / "mem.duckdb"
    async with DuckDBStore(path=path, flush_rows=10**6, flush_interval=3600) as store:
        await store.register_signals(["a"])
        await store.append(rows(1, 0, 60_000))
        await store.flush()
        assert wal_size(path) > 64 * 1024
        with store_disk_refuses_writes(path):
            await store.append(rows(1, 60_000, 100))
            with pytest.raises(StoreError, match="File too large"):
                await store.flush()
            assert store.stats().pending_samples == 100
        await store.flush()
        assert store.stats().pending_samples == 0
    assert stored_pairs(path)[1] == 60_100


async def test_rows_a_full_spool_refuses_stay_pending_and_are_not_reported_durable(
    tmp_path: Path,
) -> None:
    path = tmp_path / "full.duckdb"
    probe = SampleSpool(tmp_path / "probe", max_bytes=10**6)
    probe.open()
    probe.put(rows(2, 0, 100))
    spool = SampleSpool(tmp_path / "full.spool", max_bytes=probe.stats().bytes + 10)
    async with DuckDBStore(path=path, flush_rows=300, flush_interval=3600, spool=spool) as store:
        await store.register_signals(["a", "b"])
        await store.append(rows(2, 0, 40_000))
        await store.flush()
        with store_disk_refuses_writes(path):
            await store.append(rows(2, 40_000, 100))
            await store.flush()  # fits the spool: durable
            await store.append(rows(2, 40_100, 100))
            with pytest.raises(StoreError, match="File too large"):
                await store.flush()  # neither committed nor spooled: not durable
            failing = store.stats()
            assert (failing.pending_samples, failing.spooled_samples) == (200, 200)
            assert (failing.spool_refusals, failing.spool_dropped) == (1, 0)
            # Memory holds 10 flushes' worth (3,000); past that appends are refused (raise).
            for i in range(14):
                await store.append(rows(2, 40_200 + i * 100, 100))
            assert store.stats().pending_samples == 3_000
            with pytest.raises(StoreError, match="refuses 200 samples"):
                await store.append(rows(2, 41_600, 100))
        await store.flush()  # the disk is back: the rows kept in memory are written
        assert await store.drain() == 200
        after = store.stats()
        assert (after.pending_samples, after.spooled_samples, after.spool_dropped) == (0, 0, 0)
    n, distinct, pairs = stored_pairs(path)
    assert n == distinct
    assert pairs == expected(2, [(0, 41_600)])


async def test_a_segment_of_unknown_signals_is_set_aside_and_the_rest_drains(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A spool left by another store file (here: ids 0..4 for a store with two signals)."""
    spool = SampleSpool(tmp_path / "u.spool", max_bytes=10**6)
    spool.open()
    spool.put(rows(2, 0, 10))
    spool.put(rows(5, 10, 10))  # signal ids 2..4 are unknown to the store below
    spool.put(rows(2, 20, 10))
    path = tmp_path / "u.duckdb"
    async with DuckDBStore(path=path, flush_interval=3600, spool=spool) as store:
        await store.register_signals(["a", "b"])
        with caplog.at_level(logging.ERROR, "plantwin.store.spool"):
            assert await store.drain() == 40
        stats = store.stats()
        assert (stats.spooled_samples, stats.spool_dropped) == (0, 50)
    assert [r for r in caplog.records if "signal id 4" in r.message and ".bad" in r.message]
    bad = list((tmp_path / "u.spool").glob("*.bad"))
    assert len(bad) == 1
    assert bad[0].name.endswith("-50.arrow.bad")
    assert stored_pairs(path)[2] == expected(2, [(0, 10), (20, 30)])


# --- a kill -----------------------------------------------------------------------------


def kill_after_rounds(path: Path, spool_dir: Path, rounds: int) -> list[int]:
    """Run the writer until it reported ``rounds`` rounds durable, then SIGKILL it."""
    with subprocess.Popen(
        [sys.executable, str(KILL_WRITER), str(path), str(spool_dir)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as proc:
        assert proc.stdout is not None
        reported = []
        for line in proc.stdout:
            reported.append(int(line))  # a round reported durable (in the spool)
            if len(reported) >= rounds:
                break
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        stderr = proc.stderr.read() if proc.stderr else ""
    assert reported == list(range(rounds)), stderr
    return reported


async def test_spooled_samples_survive_sigkill(tmp_path: Path) -> None:
    path, spool_dir = tmp_path / "k.duckdb", tmp_path / "k.spool"
    kill_after_rounds(path, spool_dir, 30)
    assert list(spool_dir.glob("*.arrow")), "the writer should have spooled segments"
    spool = SampleSpool(spool_dir, max_bytes=10**8)
    async with DuckDBStore(path=path, spool=spool) as store:
        await store.drain()
        assert store.stats().spooled_samples == 0
    n, distinct, pairs = stored_pairs(path)
    assert n == distinct
    # Warm-up rows, every reported round, and possibly rounds spooled after the last line read.
    last = max(t for _, t in pairs) + 1
    assert last >= 20_000 + 30 * 100
    assert (last - 20_000) % 100 == 0  # whole rounds only
    assert pairs == expected(3, [(0, last)])


async def test_a_drain_called_while_another_runs_delivers_each_segment_once(
    tmp_path: Path,
) -> None:
    path = tmp_path / "c.duckdb"
    spool = SampleSpool(tmp_path / "c.spool", max_bytes=10**8)
    async with DuckDBStore(path=path, flush_rows=10**6, flush_interval=3600, spool=spool) as store:
        await store.register_signals(["a", "b"])
        await store.append(rows(2, 0, 20_000))
        await store.flush()
        with store_disk_refuses_writes(path):
            for i in range(5):
                await store.append(rows(2, 20_000 + i * 100, 100))
                await store.flush()
        # e.g. the background drain and an operator's drain at the same moment
        given = await asyncio.gather(store.drain(), store.drain())
        assert sum(given) == 5 * 2 * 100
        stats = spool.stats()
        assert (stats.samples, stats.bytes, stats.spooled, stats.drained) == (0, 0, 1000, 1000)
    n, distinct, pairs = stored_pairs(path)
    assert n == distinct
    assert pairs == expected(2, [(0, 20_500)])

"""DuckDBStore beyond the contract: restarts, coalescing, crashes, locks, schema and views."""

from __future__ import annotations

import asyncio
import logging
import queue
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import numpy as np
import pytest

from plantwin.core.errors import StoreError
from plantwin.core.records import Event, EventKind
from plantwin.core.samples import SampleBatch
from plantwin.core.store import HistoryQuery
from plantwin.store import DuckDBStore
from plantwin.store import duckdb_ops as ops
from plantwin.store.duckdb_schema import TABLES

WRITER = Path(__file__).with_name("sigkill_writer.py")
STORE_LOG = "plantwin.store.duckdb_store"


def ramp(signals: int, start: int, count: int) -> SampleBatch:
    """``count`` consecutive timestamps from ``start`` for each of ``signals`` signals."""
    ts = np.arange(start, start + count, dtype=np.int64)
    return SampleBatch.of(
        np.repeat(np.arange(signals), count), np.tile(ts, signals), np.tile(ts * 0.5, signals)
    )


def sql(path: Path, query: str) -> list[tuple[object, ...]]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(query).fetchall()
    finally:
        con.close()


@contextmanager
def writer(path: Path) -> Iterator[tuple[subprocess.Popen[str], queue.Queue[str]]]:
    """The writer script running on ``path``, with a queue of its output lines."""
    with subprocess.Popen(
        [sys.executable, str(WRITER), str(path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as proc:
        lines: queue.Queue[str] = queue.Queue()

        def read() -> None:
            assert proc.stdout is not None
            for line in proc.stdout:
                lines.put(line.strip())
            lines.put("")  # end of output

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        try:
            yield proc, lines
        finally:
            if proc.poll() is None:
                proc.kill()
            proc.wait(timeout=30)
            reader.join(timeout=30)


def next_line(proc: subprocess.Popen[str], lines: queue.Queue[str]) -> str:
    line = lines.get(timeout=60)
    if not line:
        assert proc.stderr is not None
        pytest.fail(f"writer process ended early: {proc.stderr.read()}")
    return line


async def test_restart_resumes_ids_data_and_dedupe(tmp_path: Path) -> None:
    path = tmp_path / "plant.duckdb"
    async with DuckDBStore(path=path) as store:
        ids = await store.register_signals(["m1/temp", "m1/speed"])
        await store.append(ramp(2, 100, 50))
        await store.append_records([Event(ts=1, twin="m1", kind=EventKind.NOTE, message="hi")])
        await store.put_meta("demo.snapshot", b"state")
    async with DuckDBStore(path=path) as store:
        assert store.stats().committed_samples == 100
        assert await store.register_signals(["m1/speed", "m2/temp", "m1/temp"]) == {
            "m1/speed": ids["m1/speed"],
            "m2/temp": 2,
            "m1/temp": ids["m1/temp"],
        }
        latest = await store.latest()
        assert latest.ts.tolist() == [149, 149]
        await store.append(ramp(2, 120, 40))  # 30 of each signal were stored before the restart
        await store.flush()
        stats = store.stats()
        assert (stats.committed_samples, stats.duplicates_dropped) == (120, 60)
        h = await store.history(HistoryQuery(signal=1, start=0, end=1000))
        assert h.ts.tolist() == list(range(100, 160))
        assert await store.get_meta("demo.snapshot") == b"state"
    assert sql(path, "SELECT count(*), count(DISTINCT (signal, ts)) FROM samples") == [(120, 120)]


async def test_small_appends_are_coalesced(tmp_path: Path) -> None:
    async with DuckDBStore(path=tmp_path / "s.duckdb", flush_rows=10_000) as store:
        await store.register_signals([f"s{i}" for i in range(10)])
        for i in range(250):
            await store.append(ramp(10, i * 10, 10))  # 100 samples per append
        stats = store.stats()
        assert (stats.flushes, stats.committed_samples, stats.pending_samples) == (2, 20_000, 5_000)
        await store.flush()
        await store.flush()
        assert (store.stats().flushes, store.stats().pending_samples) == (3, 0)


async def test_pending_samples_are_flushed_in_the_background(tmp_path: Path) -> None:
    async with DuckDBStore(path=tmp_path / "s.duckdb", flush_interval=0.02) as store:
        await store.register_signals(["a"])
        await store.append(ramp(1, 0, 10))
        for _ in range(500):
            if store.stats().pending_samples == 0:
                break
            await asyncio.sleep(0.01)
        assert (store.stats().committed_samples, store.stats().flushes) == (10, 1)


async def test_concurrent_overlapping_appends_store_each_sample_once(tmp_path: Path) -> None:
    batches = [ramp(3, start, 40) for start in (0, 30, 10, 60, 5, 90, 0)]

    async with DuckDBStore(path=tmp_path / "s.duckdb", flush_rows=50) as store:
        await store.register_signals(["a", "b", "c"])

        async def producer(order: list[SampleBatch]) -> None:
            for b in order:
                await store.append(b)
                await asyncio.sleep(0)

        await asyncio.gather(*(producer(batches[k:] + batches[:k]) for k in range(4)))
        await store.flush()
        stats = store.stats()
        assert stats.committed_samples == 3 * 130
        assert stats.committed_samples + stats.duplicates_dropped == 4 * len(batches) * 120
        for s in range(3):
            h = await store.history(HistoryQuery(signal=s, start=0, end=1000))
            assert h.ts.tolist() == list(range(130))


async def test_a_cancelled_append_does_not_lose_its_flush(tmp_path: Path) -> None:
    async with DuckDBStore(path=tmp_path / "s.duckdb", flush_rows=1000) as store:
        await store.register_signals(["a"])
        await store.append(ramp(1, 0, 999))
        task = asyncio.create_task(store.append(ramp(1, 999, 1)))  # reaches flush_rows
        await asyncio.sleep(0)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await store.flush()
        assert store.stats().committed_samples == 1000


async def test_committed_samples_survive_sigkill(tmp_path: Path) -> None:
    path = tmp_path / "killed.duckdb"
    with writer(path) as (proc, lines):
        printed = [int(next_line(proc, lines)) for _ in range(5)]
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        assert proc.returncode == -signal.SIGKILL
    assert printed[:2] == [30_000, 45_000]
    async with DuckDBStore(path=path) as store:
        committed = store.stats().committed_samples
        assert committed >= printed[-1]
        assert (committed - 30_000) % 15_000 == 0  # whole flushes only
        ids = await store.register_signals(["line/a", "line/b", "line/c"])
        assert list(ids.values()) == [0, 1, 2]
        replay = np.tile(np.arange(10_000, dtype=np.int64), 3) * 1_000_000  # the first round
        await store.append(SampleBatch.of(np.repeat([0, 1, 2], 10_000), replay, np.zeros(30_000)))
        await store.flush()
        assert store.stats().duplicates_dropped == 30_000
    [(rows, pairs)] = sql(path, "SELECT count(*), count(DISTINCT (signal, ts)) FROM samples")
    assert rows == pairs == committed


async def test_a_locked_file_is_reported_with_its_name(tmp_path: Path) -> None:
    path = tmp_path / "busy.duckdb"
    with writer(path) as (proc, lines):
        next_line(proc, lines)
        with pytest.raises(StoreError, match="locked by another process") as info:
            async with DuckDBStore(path=path):
                pass
        assert str(path.resolve()) in str(info.value)


async def test_one_file_opens_once_per_process(tmp_path: Path) -> None:
    async with DuckDBStore(path=tmp_path / "a.duckdb"):
        with pytest.raises(StoreError, match="already open in this process"):
            async with DuckDBStore(path=tmp_path / "." / "a.duckdb"):
                pass
    async with DuckDBStore(path=tmp_path / "a.duckdb"):
        pass


async def test_unopenable_path_is_named(tmp_path: Path) -> None:
    path = tmp_path / "missing-dir" / "s.duckdb"
    with pytest.raises(StoreError, match=r"cannot open store file .*missing-dir"):
        async with DuckDBStore(path=path):
            pass


def test_constructor_checks_its_arguments() -> None:
    with pytest.raises(ValueError, match="flush_rows"):
        DuckDBStore(path=":memory:", flush_rows=0)
    with pytest.raises(ValueError, match="flush_interval"):
        DuckDBStore(path=":memory:", flush_interval=0)


async def test_a_failed_write_keeps_its_samples_pending(tmp_path: Path) -> None:
    path = tmp_path / "s.duckdb"
    store = DuckDBStore(path=path)
    async with store:
        await store.register_signals(["a"])
        await store.append(ramp(1, 0, 5))
        con = store._con
        assert con is not None
        con.execute("ALTER TABLE samples RENAME TO samples_away")
        with pytest.raises(StoreError, match=r"writing 5 samples in store .*s\.duckdb failed"):
            await store.flush()
        assert store.stats().pending_samples == 5
        con.execute("ALTER TABLE samples_away RENAME TO samples")
        await store.flush()
        assert (store.stats().pending_samples, store.stats().committed_samples) == (0, 5)
        await store.append(ramp(1, 5, 5))
        con.execute("ALTER TABLE samples RENAME TO samples_away")
        with pytest.raises(StoreError, match="5 pending samples could not be written"):
            await store.__aexit__(None, None, None)


async def test_schema_version_is_kept_and_checked(tmp_path: Path) -> None:
    path = tmp_path / "s.duckdb"
    async with DuckDBStore(path=path):
        pass
    assert sql(path, "SELECT value FROM meta WHERE key = 'store.schema_version'") == [(b"1",)]
    con = duckdb.connect(str(path))
    con.execute("UPDATE meta SET value = '99'::BLOB WHERE key = 'store.schema_version'")
    con.close()
    with pytest.raises(StoreError, match=r"schema version 99, newer than .* \(1\)"):
        async with DuckDBStore(path=path):
            pass


async def test_views_name_signals_and_show_time(tmp_path: Path) -> None:
    path = tmp_path / "s.duckdb"
    ts = 1_700_000_000_123_456_789
    async with DuckDBStore(path=path) as store:
        await store.register_signals(["changwon.L1.mill1/spindle_temp"])
        await store.append(SampleBatch.of([0], [ts], [61.5], [1]))
        await store.append_records([Event(ts=ts, twin="m", kind=EventKind.NOTE, message="x")])
    when = datetime(2023, 11, 14, 22, 13, 20, 123456, tzinfo=UTC)
    assert sql(path, "SELECT signal, time, ts_ns, value, quality FROM samples_view") == [
        ("changwon.L1.mill1/spindle_temp", when, ts, 61.5, 1)
    ]
    assert sql(path, "SELECT signal, time FROM latest_view") == [
        ("changwon.L1.mill1/spindle_temp", when)
    ]
    assert sql(path, "SELECT time, twin, data FROM events_view") == [(when, "m", "{}")]


def break_writes(store: DuckDBStore, *, broken: bool) -> None:
    """Make sample writes fail for real (a DuckDB catalog error), or work again."""
    old, new = ("samples", "samples_away") if broken else ("samples_away", "samples")
    with store._db_lock:  # the background flush may be using the connection
        assert store._con is not None
        store._con.execute(f"ALTER TABLE {old} RENAME TO {new}")


def log_lines(caplog: pytest.LogCaptureFixture) -> list[tuple[int, str]]:
    return [(r.levelno, r.getMessage()) for r in caplog.records if r.name == STORE_LOG]


async def test_appends_ride_out_failing_writes_up_to_a_limit(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=STORE_LOG)
    async with DuckDBStore(path=tmp_path / "s.duckdb", flush_rows=10, flush_interval=3600) as store:
        await store.register_signals(["a", "b"])
        assert store.max_pending == 100
        await store.append(ramp(2, 0, 5))  # written: the size trigger fires
        break_writes(store, broken=True)
        for start in range(5, 55, 5):  # 100 samples: size triggers fail, append goes on
            await store.append(ramp(2, start, 5))
        assert (store.stats().pending_samples, store.stats().committed_samples) == (100, 10)
        with pytest.raises(StoreError) as refused:
            await store.append(ramp(2, 55, 1))
        assert "refuses 2 samples: 100 samples are pending already, at most 100" in str(
            refused.value
        )
        assert "writing 100 samples in store" in str(refused.value)
        assert "samples" in str(refused.value.__cause__)
        assert store.stats().pending_samples == 100  # the refused batch was not taken
        [(level, failing)] = log_lines(caplog)
        assert level == logging.WARNING
        assert "writing samples fails; keeping" in failing
        break_writes(store, broken=False)
        await store.append(ramp(2, 55, 5))  # retries first, then takes the batch
        await store.flush()
        stats = store.stats()
        assert (stats.pending_samples, stats.committed_samples) == (0, 120)
        assert log_lines(caplog)[1:] == [
            (logging.INFO, f"writing samples to store {tmp_path / 's.duckdb'} works again")
        ]
        for signal_id in (0, 1):
            h = await store.history(HistoryQuery(signal=signal_id, start=0, end=1000))
            assert h.ts.tolist() == list(range(60))


async def test_the_timer_retries_failed_writes(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=STORE_LOG)
    async with DuckDBStore(path=tmp_path / "s.duckdb", flush_rows=10, flush_interval=0.01) as store:
        await store.register_signals(["a"])
        break_writes(store, broken=True)
        await store.append(ramp(1, 0, 25))  # the size trigger fails; the rows stay pending
        await asyncio.sleep(0.1)  # several timer retries fail
        assert store.stats().pending_samples == 25
        break_writes(store, broken=False)
        for _ in range(500):
            if store.stats().pending_samples == 0:
                break
            await asyncio.sleep(0.01)
        assert store.stats().committed_samples == 25
        assert [level for level, _ in log_lines(caplog)] == [logging.WARNING, logging.INFO]


def test_records_are_inserted_as_columns_or_else_row_by_row() -> None:
    """One Arrow table per record table; a column Arrow cannot type goes row by row."""
    con = duckdb.connect(":memory:")
    con.execute(TABLES)
    rows: list[tuple[object, ...]] = [
        (1, 10, "s.m1", "info", "one", "{}"),
        (2, 11, "s.m2", "info", "two", '{"a": 1}'),
    ]
    ops.insert_records(con, {"events": rows})
    mixed: list[tuple[object, ...]] = [
        (3, 12, "s.m1", "info", "three", "{}"),
        (4, 13, "s.m1", "info", 4, "{}"),  # 'message' holds a str and an int
    ]
    ops.insert_records(con, {"events": mixed})
    got = con.execute("SELECT seq, ts, twin, message, data FROM events ORDER BY seq").fetchall()
    assert got == [
        (1, 10, "s.m1", "one", "{}"),
        (2, 11, "s.m2", "two", '{"a": 1}'),
        (3, 12, "s.m1", "three", "{}"),
        (4, 13, "s.m1", "4", "{}"),
    ]

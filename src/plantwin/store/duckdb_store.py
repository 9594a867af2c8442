"""DuckDBStore: the embedded default store, one DuckDB file, no server.

Samples are coalesced in memory (:class:`~plantwin.store.buffer.SampleBuffer`) and written as
one Arrow table per transaction: when ``flush_rows`` are pending, every ``flush_interval``
seconds while anything is pending, on :meth:`DuckDBStore.flush`, before a history query and
on close. DuckDB's write-ahead log makes each committed flush survive a killed process.

Writes are idempotent on (signal, ts). Rows above their signal's watermark are new and cost
nothing more; rows at or below it are checked against the pending rows and, if they may have
been committed, against the table by one join restricted to their time range. The first
accepted sample wins; duplicates are counted in :meth:`DuckDBStore.stats`.

All DuckDB calls run in worker threads over one connection guarded by a lock, so the event
loop never waits on the disk. ``latest()`` reports committed samples only.

A write that fails (disk full, a DuckDB error) hands its rows to the store-and-forward spool
(:mod:`plantwin.store.spool`, local disk, bounded by bytes) when the store has one; a drain task
gives them back, oldest first, once writes work again, through the same duplicate check as a
late row, so a segment delivered twice (a kill between commit and delete) is stored once.
Without a spool, or if the spool is full or cannot be written either, the rows stay pending in
memory (not durable: ``flush()`` raises, so nothing confirms them to their source) and are
retried by the next size or timer trigger. ``append()`` does not raise for a failed write,
so one bad moment of the disk does not stop the pipeline. Failing and recovering are logged
once each. While writes fail, at most ``max_pending`` samples are kept in memory; past that
``append()`` refuses its batch.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from types import TracebackType
from typing import Concatenate, ParamSpec, Self, TypeVar

import duckdb
import numpy as np

from plantwin.core.auth import Token, User
from plantwin.core.errors import StoreError
from plantwin.core.kpis import KpiQuery, KpiRecord
from plantwin.core.models import ModelInfo
from plantwin.core.samples import SampleBatch
from plantwin.core.store import History, HistoryQuery, Latest, Record, RecordQuery, StoreStats
from plantwin.store import duckdb_auth as auth
from plantwin.store import duckdb_models as models_sql
from plantwin.store import duckdb_ops as ops
from plantwin.store.buffer import SampleBuffer, check_signal_ids
from plantwin.store.duckdb_schema import prepare
from plantwin.store.rules import (
    RECORD_TABLES,
    check_history_query,
    check_kpi_query,
    check_kpi_record,
    check_meta_key,
    check_record_query,
    check_user,
)
from plantwin.store.spool import SampleSpool, Segment

log = logging.getLogger(__name__)

P = ParamSpec("P")
T = TypeVar("T")

# Files open in this process: DuckDB shares one database per file within a process, so a
# second store on the same file would not be stopped by the file lock, and its watermarks
# would not see the first one's writes.
_OPEN_FILES: set[str] = set()

# Applied once before the first SQL connection; the last one makes all of them final.
SANDBOX_SETTINGS = (
    "SET enable_progress_bar = false",
    "SET enable_external_access = false",
    "SET lock_configuration = true",
)

# While writes fail, keep at most this many flushes' worth of samples pending.
PENDING_FLUSHES = 10


class DuckDBStore:
    """A :class:`~plantwin.core.store.Store` in one DuckDB file (or ``":memory:"``).

    Args:
        path: database file, created if missing; ``":memory:"`` for a throwaway store.
        flush_rows: write as soon as this many samples are pending.
        flush_interval: seconds between background writes of whatever is pending.
        spool: where failed writes wait on disk for the store to recover (store-and-forward);
            None keeps them in memory only.

    While writes fail, at most ``max_pending`` (``PENDING_FLUSHES * flush_rows``) samples
    are kept pending; an ``append()`` that would go beyond raises :class:`StoreError`.
    """

    def __init__(
        self,
        *,
        path: str | Path,
        flush_rows: int = 100_000,
        flush_interval: float = 1.0,
        spool: SampleSpool | None = None,
    ) -> None:
        if flush_rows < 1:
            msg = f"flush_rows must be at least 1, got {flush_rows}"
            raise ValueError(msg)
        if not flush_interval > 0:
            msg = f"flush_interval must be a positive number of seconds, got {flush_interval}"
            raise ValueError(msg)
        self.path = path
        self.flush_rows = flush_rows
        self.flush_interval = flush_interval
        self.max_pending = PENDING_FLUSHES * flush_rows
        self.spool = spool
        self._where = ":memory:" if str(path) == ":memory:" else str(Path(path).resolve())
        self._con: duckdb.DuckDBPyConnection | None = None
        self._db_lock = threading.Lock()  # one connection, one thread at a time
        self._reset()

    def _reset(self) -> None:
        """Fresh in-memory state; asyncio locks are made anew for the loop that opens the store."""
        self._lock = asyncio.Lock()  # held by a flush, or a duplicate check and what it adds
        self._register_lock = asyncio.Lock()
        self._drain_lock = asyncio.Lock()  # one drain at a time: each reads the same oldest ones
        self._buffer = SampleBuffer()
        self._ids: dict[str, int] = {}
        self._committed = self._inflight = self._dropped = self._flushes = self._seq = 0
        self._flush_task: asyncio.Task[None] | None = None
        self._timer: asyncio.Task[None] | None = None
        self._drainer: asyncio.Task[None] | None = None
        self._failing = False  # the last write failed; logged once, cleared by a good write
        self._sandboxed = False  # sql_connection() has locked the database down
        self._flush_at = self.flush_rows  # pending rows that make append() write

    # -- lifecycle ---------------------------------------------------------------------------

    async def __aenter__(self) -> Self:
        if self._con is not None:
            msg = f"store {self._where} is already open"
            raise StoreError(msg)
        if self._where in _OPEN_FILES:
            msg = f"store file {self._where} is already open in this process"
            raise StoreError(msg)
        if self._where != ":memory:":
            _OPEN_FILES.add(self._where)
        try:
            self._con = await asyncio.to_thread(self._connect)
            opened = await self._db("reading the store's state", ops.load)
            if self.spool is not None:
                await asyncio.to_thread(self.spool.open)
        except BaseException:
            await self._disconnect()
            raise
        self._reset()
        self._ids = {key: i for i, key in enumerate(opened.keys)}
        self._buffer.grow(len(opened.keys))
        self._buffer.committed_up_to(opened.latest.signal, opened.latest.ts)
        self._committed, self._seq = opened.samples, opened.last_seq
        self._timer = asyncio.create_task(self._flush_periodically(), name=f"flush {self._where}")
        if self.spool is not None:
            self._drainer = asyncio.create_task(self._drain_periodically(), name="drain spool")
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._con is None:
            return
        for task in (self._timer, self._drainer):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        try:
            await self.flush()
        except StoreError as err:
            lost = self._buffer.rows
            msg = f"closing store {self._where}: {lost} pending samples could not be written"
            raise StoreError(msg) from err
        finally:
            await self._disconnect()

    def _connect(self) -> duckdb.DuckDBPyConnection:
        try:
            con = duckdb.connect(str(self.path))
        except duckdb.IOException as err:
            if "lock" in str(err).lower():
                msg = (
                    f"store file {self._where} is locked by another process (another plantwin "
                    f"running on it?); stop it or use another file. DuckDB said: {err}"
                )
                raise StoreError(msg) from err
            msg = f"cannot open store file {self._where}: {err}"
            raise StoreError(msg) from err
        except duckdb.Error as err:
            msg = f"cannot open store file {self._where}: {err}"
            raise StoreError(msg) from err
        try:
            prepare(con, self._where)
        except duckdb.Error as err:
            con.close()
            msg = f"cannot prepare the schema of store {self._where}: {err}"
            raise StoreError(msg) from err
        except BaseException:
            con.close()
            raise
        return con

    async def _disconnect(self) -> None:
        con, self._con = self._con, None
        _OPEN_FILES.discard(self._where)
        if con is not None:
            await asyncio.to_thread(self._close_connection, con)

    def _close_connection(self, con: duckdb.DuckDBPyConnection) -> None:
        with self._db_lock:
            con.close()

    async def _db(
        self, what: str, fn: Callable[Concatenate[ops.Con, P], T], *args: P.args, **kw: P.kwargs
    ) -> T:
        """Run ``fn(connection, ...)`` in a worker thread; DuckDB errors become StoreError."""

        def call() -> T:
            with self._db_lock:
                if self._con is None:
                    msg = f"{what}: store {self._where} is not open; use it inside 'async with'"
                    raise StoreError(msg)
                try:
                    return fn(self._con, *args, **kw)
                except duckdb.Error as err:
                    msg = f"{what} in store {self._where} failed: {err}"
                    raise StoreError(msg) from err

        return await asyncio.to_thread(call)

    def _check_open(self) -> None:
        if self._con is None:
            msg = f"store {self._where} is not open; use it inside 'async with'"
            raise StoreError(msg)

    def sql_connection(self) -> duckdb.DuckDBPyConnection:
        """A new connection to this store's database for sandboxed, read-only SQL.

        The first call closes the database to files and the network for good
        (``enable_external_access = false``, then ``lock_configuration = true``); the store
        never needs either, and a query cannot turn them back on.
        """
        with self._db_lock:
            if self._con is None:
                msg = f"store {self._where} is not open; SQL needs an open store"
                raise StoreError(msg)
            if not self._sandboxed:
                for setting in SANDBOX_SETTINGS:
                    self._con.execute(setting)
                self._sandboxed = True
            return self._con.cursor()

    # -- samples -----------------------------------------------------------------------------

    async def register_signals(self, keys: Sequence[str]) -> dict[str, int]:
        self._check_open()
        async with self._register_lock:
            new = list(dict.fromkeys(k for k in keys if k not in self._ids))
            if new:
                first = len(self._ids)
                await self._db(f"registering {len(new)} signals", ops.insert_signals, first, new)
                self._ids.update({key: first + i for i, key in enumerate(new)})
                self._buffer.grow(len(self._ids))
        return {key: self._ids[key] for key in keys}

    async def append(self, batch: SampleBatch) -> None:
        self._check_open()
        if len(batch) == 0:
            return
        check_signal_ids(batch, self._buffer.signals)
        canon = batch.canonical()
        await self._make_room(len(canon))
        self._dropped += len(batch) - len(canon)
        fresh, late = self._buffer.split(canon)
        self._buffer.add(fresh)
        if len(late):
            await self._append_late(late)
        if self._buffer.rows >= self._flush_at:
            with contextlib.suppress(StoreError):  # logged; the rows stay pending for a retry
                await asyncio.shield(self._start_flush())

    async def _make_room(self, incoming: int) -> None:
        """While writes fail, retry before going past ``max_pending``; refuse if that fails too."""
        if not self._failing or self._buffer.rows + self._inflight + incoming <= self.max_pending:
            return
        try:
            await asyncio.shield(self._start_flush())
        except StoreError as err:
            msg = (
                f"store {self._where} refuses {incoming} samples: {self._buffer.rows} samples "
                f"are pending already, at most {self.max_pending} are kept while writes fail, "
                f"and writing fails: {err}"
            )
            raise StoreError(msg) from err

    async def _append_late(self, late: SampleBatch) -> None:
        """Keep the late rows that are neither pending nor committed yet."""
        async with self._lock:  # no flush may move rows between the two checks
            seen = self._buffer.pending_mask(late)
            check = self._buffer.maybe_stored(late) & ~seen
            if check.any():
                rows = late.take(check)
                what = f"checking {len(rows)} late samples for duplicates"
                seen[check] = await self._db(what, ops.stored_mask, rows)
            keep = ~seen
            self._dropped += len(late) - int(np.count_nonzero(keep))
            self._buffer.add(late if keep.all() else late.take(keep))

    async def flush(self) -> None:
        """Return once every sample accepted before the call is committed."""
        self._check_open()
        target = self._buffer.accepted
        while self._buffer.committed < target:
            await asyncio.shield(self._start_flush())

    def _start_flush(self) -> asyncio.Task[None]:
        """The running write, or a new one; never cancelled, so it always finishes its work."""
        if self._flush_task is None or self._flush_task.done():
            self._flush_task = asyncio.create_task(self._write_pending())
            self._flush_task.add_done_callback(_consume_error)
        return self._flush_task

    async def _write_pending(self) -> None:
        async with self._lock:
            batches, upto = self._buffer.take()
            if batches:
                rows = SampleBatch.concat(batches)
                self._inflight = len(rows)
                try:
                    signal, newest = await self._db(
                        f"writing {len(rows)} samples", ops.write_samples, rows
                    )
                except StoreError as err:
                    self._write_failed(err)
                    if not await self._spill(rows):
                        self._buffer.restore(batches)
                        raise
                    self._buffer.committed = upto  # durably accepted: on disk in the spool
                    return
                finally:
                    self._inflight = 0
                self._buffer.committed_up_to(signal, newest)
                self._committed += len(rows)
                self._flushes += 1
                self._write_worked()
            self._buffer.committed = upto

    async def _spill(self, rows: SampleBatch) -> bool:
        """Hand the rows of a failed write to the spool; False if they must stay in memory.

        False also when the spool is full: rows that are neither committed nor spooled are
        not durable, so the flush fails and nobody confirms them to their source.
        """
        if self.spool is None:
            return False
        try:
            return await asyncio.to_thread(self.spool.put, rows)  # False: full (logged once)
        except StoreError as err:
            log.error("cannot spool %d samples, keeping them in memory: %s", len(rows), err)
            return False

    async def _drain_periodically(self) -> None:
        """Deliver spooled segments, oldest first, whenever the store accepts writes."""
        while True:
            await asyncio.sleep(self.flush_interval)
            with contextlib.suppress(StoreError):  # logged; the segment waits for the next try
                await self.drain()

    async def drain(self) -> int:
        """Deliver every spooled segment now; the number of samples the spool gave back.

        Segments go oldest first, several per transaction (up to ``flush_rows`` samples),
        since a failing store leaves many small ones. Stops at the first failed write
        (raising it); those segments stay for the next try.
        """
        self._check_open()
        spool, given = self.spool, 0
        async with self._drain_lock:
            while spool is not None and len(spool):
                segments, parts = await asyncio.to_thread(self._read_some, spool)
                given += await self._deliver(spool, segments, parts)
        return given

    def _read_some(self, spool: SampleSpool) -> tuple[list[Segment], list[SampleBatch]]:
        """The oldest segments, up to ``flush_rows`` samples (at least one segment).

        A segment that can never be written (unreadable, or signal ids this store does not
        have: another store file than the one it was spooled for) is set aside, so it does
        not block the ones behind it.
        """
        segments: list[Segment] = []
        parts: list[SampleBatch] = []
        rows = 0
        for segment in spool.waiting():
            if segments and rows + segment.rows > self.flush_rows:
                break
            batch = spool.read(segment)  # None: unreadable, set aside, counted and logged
            if batch is not None:
                try:
                    check_signal_ids(batch, self._buffer.signals)
                except StoreError as err:
                    spool.set_aside(segment, str(err))
                    continue
                segments.append(segment)
                parts.append(batch)
                rows += len(batch)
        return segments, parts

    async def _deliver(
        self, spool: SampleSpool, segments: list[Segment], parts: list[SampleBatch]
    ) -> int:
        if not segments:
            return 0
        batch = SampleBatch.concat(parts)
        async with self._lock:  # no flush may move rows between the checks and the write
            check_signal_ids(batch, self._buffer.signals)
            rows = batch.canonical()
            seen = self._buffer.pending_mask(rows)  # pending rows are written by the buffer
            check = self._buffer.maybe_stored(rows) & ~seen
            if check.any():
                what = f"checking {int(check.sum())} spooled samples for duplicates"
                seen[check] = await self._db(what, ops.stored_mask, rows.take(check))
            keep = rows.take(~seen) if seen.any() else rows
            if len(keep):
                try:
                    signal, newest = await self._db(
                        f"writing {len(keep)} spooled samples", ops.write_samples, keep
                    )
                except StoreError as err:
                    self._write_failed(err)
                    raise
                self._buffer.committed_up_to(signal, newest)
                self._committed += len(keep)
                self._flushes += 1
                self._write_worked()
            self._dropped += len(batch) - len(keep)  # counted once written: a retry recounts
            await asyncio.to_thread(spool.remove_all, segments)
        return len(batch)

    def _write_failed(self, err: StoreError) -> None:
        # The next size trigger waits for another flush_rows, so a broken disk is not hammered
        # by every append; the timer retries meanwhile.
        self._flush_at = self._buffer.rows + self.flush_rows
        if not self._failing:
            log.warning(
                "writing samples fails; keeping %d pending (at most %d) and retrying: %s",
                self._buffer.rows,
                self.max_pending,
                err,
            )
        self._failing = True

    def _write_worked(self) -> None:
        self._flush_at = self.flush_rows
        if self._failing:
            log.info("writing samples to store %s works again", self._where)
        self._failing = False

    async def _flush_periodically(self) -> None:
        while True:
            await asyncio.sleep(self.flush_interval)
            if self._buffer.rows:
                with contextlib.suppress(StoreError):  # logged; the rows stay pending
                    await asyncio.shield(self._start_flush())

    async def history(self, query: HistoryQuery) -> History:
        self._check_open()
        check_history_query(query, self._buffer.signals)
        await self.flush()
        return await self._db(f"reading history of signal {query.signal}", ops.history, query)

    async def latest(self) -> Latest:
        """Newest committed sample per signal (pending samples are not included)."""
        self._check_open()
        return await self._db("reading latest values", ops.latest)

    # -- records and meta --------------------------------------------------------------------

    async def append_records(self, records: Sequence[Record]) -> None:
        self._check_open()
        rows: dict[str, list[tuple[object, ...]]] = {t: [] for t in RECORD_TABLES.values()}
        for record in records:
            self._seq += 1
            rows[RECORD_TABLES[type(record)]].append(ops.record_row(self._seq, record))
        if records:
            await self._db(f"writing {len(records)} records", ops.insert_records, rows)

    async def records(self, query: RecordQuery) -> list[Record]:
        self._check_open()
        check_record_query(query)
        return await self._db(f"reading {RECORD_TABLES[query.kind]}", ops.records, query)

    async def prune(self, *, older_than: int) -> dict[str, int]:
        self._check_open()
        await self.flush()
        async with self._lock:
            counts = await self._db(f"pruning data older than {older_than}", ops.prune, older_than)
            self._committed -= counts["samples"]
        return counts

    async def put_meta(self, key: str, value: bytes) -> None:
        self._check_open()
        check_meta_key(key)
        await self._db(f"writing meta {key!r}", ops.put_meta, key, bytes(value))

    async def get_meta(self, key: str) -> bytes | None:
        self._check_open()
        return await self._db(f"reading meta {key!r}", ops.get_meta, key)

    async def put_kpis(self, records: Sequence[KpiRecord]) -> None:
        self._check_open()
        for record in records:
            check_kpi_record(record)
        if records:
            await self._db(f"writing {len(records)} KPI records", ops.put_kpis, records)

    async def kpis(self, query: KpiQuery) -> list[KpiRecord]:
        self._check_open()
        check_kpi_query(query)
        return await self._db(f"reading KPIs of {query.twin}", ops.kpis, query)

    # -- users and tokens --------------------------------------------------------------------

    async def put_user(self, user: User) -> None:
        self._check_open()
        check_user(user)
        await self._db(f"writing user {user.name!r}", auth.put_user, user)

    async def users(self) -> list[User]:
        self._check_open()
        return await self._db("reading users", auth.users)

    async def put_token(self, token: Token) -> None:
        self._check_open()
        await self._db(f"writing token {token.id!r}", auth.put_token, token)

    async def tokens(self, user: str | None = None) -> list[Token]:
        self._check_open()
        return await self._db("reading tokens", auth.tokens, user)

    async def token_by_digest(self, digest: str) -> Token | None:
        self._check_open()
        return await self._db("looking up a token", auth.token_by_digest, digest)

    # -- model registry ----------------------------------------------------------------------

    async def put_model(self, info: ModelInfo, artifact: bytes) -> None:
        self._check_open()
        await self._db(f"writing model {info.ref}", models_sql.put_model, info, bytes(artifact))

    async def models(self, name: str | None = None) -> list[ModelInfo]:
        self._check_open()
        return await self._db("reading models", models_sql.models, name)

    async def model_artifact(self, name: str, version: int) -> bytes | None:
        self._check_open()
        return await self._db(
            f"reading model {name}@{version}", models_sql.model_artifact, name, version
        )

    def stats(self) -> StoreStats:
        spool = self.spool.stats() if self.spool is not None else None
        oldest = spool.oldest_ns if spool is not None else None
        return StoreStats(
            committed_samples=self._committed,
            pending_samples=self._buffer.rows + self._inflight,
            duplicates_dropped=self._dropped,
            flushes=self._flushes,
            spooled_samples=spool.samples if spool else 0,
            spooled_bytes=spool.bytes if spool else 0,
            spool_oldest_age_s=round(max(0, time.time_ns() - oldest) / 1e9, 3) if oldest else 0.0,
            spool_dropped=spool.dropped if spool else 0,
            spool_refusals=spool.refusals if spool else 0,
        )


def _consume_error(task: asyncio.Task[None]) -> None:
    """Mark a failed write's error as seen: whoever awaited it was told already."""
    if not task.cancelled():
        task.exception()

"""MemoryStore: the reference store, kept simple so the contract suite can trust it.

Everything lives in numpy arrays per signal and is "committed" the moment it is appended, so
``pending_samples`` is always 0. Semantics match :class:`~plantwin.store.duckdb_store.DuckDBStore`
exactly; the contract suite in tests/store/test_contract.py holds both to them:

* a (signal, ts) pair is stored once: the first accepted sample wins across appends; within
  one batch the last row of a duplicate run wins (:meth:`SampleBatch.canonical`);
  ``duplicates_dropped`` counts both kinds;
* ``latest`` only moves forward in time and is kept when ``prune`` removes old samples;
* bucketed ``min``/``max``/``mean`` ignore NaN values (``count`` and ``quality`` do not), and
  are NaN for a bucket holding only NaN values.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from types import TracebackType
from typing import Self

import numpy as np

from plantwin.core.auth import Token, User
from plantwin.core.errors import StoreError
from plantwin.core.kpis import KpiQuery, KpiRecord
from plantwin.core.models import ModelInfo
from plantwin.core.records import AlarmEvent, CommandEvent, DeadLetter, Event
from plantwin.core.samples import F64, I64, U8, SampleBatch
from plantwin.core.store import History, HistoryQuery, Latest, Record, RecordQuery, StoreStats
from plantwin.store.buffer import check_signal_ids
from plantwin.store.rules import (
    PRUNE_KEYS,
    RECORD_TABLES,
    check_history_query,
    check_kpi_query,
    check_kpi_record,
    check_meta_key,
    check_model,
    check_record_query,
    check_token,
    check_user,
    command_parameters_json,
    event_data,
    event_data_json,
    in_twin,
    record_ts,
)


@dataclass(slots=True)
class _Series:
    """One signal's samples: a merged part sorted by ts plus chunks appended since."""

    ts: I64 = field(default_factory=lambda: np.empty(0, np.int64))
    value: F64 = field(default_factory=lambda: np.empty(0, np.float64))
    quality: U8 = field(default_factory=lambda: np.empty(0, np.uint8))
    chunks: list[tuple[I64, F64, U8]] = field(default_factory=list)
    newest: int = np.iinfo(np.int64).min
    rows: int = 0

    def merged(self) -> _Series:
        if self.chunks:
            ts = np.concatenate([self.ts, *(c[0] for c in self.chunks)])
            order = np.argsort(ts, kind="stable")
            self.ts = ts[order]
            self.value = np.concatenate([self.value, *(c[1] for c in self.chunks)])[order]
            self.quality = np.concatenate([self.quality, *(c[2] for c in self.chunks)])[order]
            self.chunks = []
        return self

    def add(self, ts: I64, value: F64, quality: U8) -> int:
        """Add rows sorted by ts and unique among themselves; returns how many were new."""
        if ts[0] <= self.newest:
            new = ~np.isin(ts, self.merged().ts)
            ts, value, quality = ts[new], value[new], quality[new]
        if ts.shape[0]:
            self.chunks.append((ts.copy(), value.copy(), quality.copy()))
            self.rows += int(ts.shape[0])
            self.newest = max(self.newest, int(ts[-1]))
        return int(ts.shape[0])

    def prune(self, older_than: int) -> int:
        s = self.merged()
        cut = int(np.searchsorted(s.ts, older_than, side="left"))
        s.ts, s.value, s.quality = s.ts[cut:], s.value[cut:], s.quality[cut:]
        self.rows -= cut
        return cut


class MemoryStore:
    """Reference :class:`~plantwin.core.store.Store` in memory; nothing survives the process."""

    def __init__(self) -> None:
        self._open = False
        self._ids: dict[str, int] = {}
        self._series: list[_Series] = []
        self._latest: dict[int, tuple[int, float, int]] = {}
        self._records: dict[str, list[tuple[int, Record]]] = {t: [] for t in PRUNE_KEYS[1:]}
        self._seq = 0
        self._meta: dict[str, bytes] = {}
        self._dropped = 0
        self._kpis: dict[tuple[str, str, int], KpiRecord] = {}
        self._users: dict[str, User] = {}
        self._tokens: dict[str, Token] = {}  # by id
        self._models: dict[tuple[str, int], tuple[ModelInfo, bytes]] = {}

    async def __aenter__(self) -> Self:
        self._open = True
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._open = False

    def _check_open(self) -> None:
        if not self._open:
            msg = "MemoryStore is not open; use it inside 'async with'"
            raise StoreError(msg)

    async def register_signals(self, keys: Sequence[str]) -> dict[str, int]:
        self._check_open()
        for key in keys:
            if key not in self._ids:
                self._ids[key] = len(self._ids)
                self._series.append(_Series())
        return {key: self._ids[key] for key in keys}

    async def append(self, batch: SampleBatch) -> None:
        self._check_open()
        check_signal_ids(batch, len(self._series))
        canon = batch.canonical()
        stored = 0
        start = 0
        for end in canon.group_ends() + 1:
            sig = int(canon.signal[start])
            ts, value = canon.ts[start:end], canon.value[start:end]
            quality = canon.quality[start:end]
            stored += self._series[sig].add(ts, value, quality)
            if sig not in self._latest or int(ts[-1]) > self._latest[sig][0]:
                self._latest[sig] = (int(ts[-1]), float(value[-1]), int(quality[-1]))
            start = int(end)
        self._dropped += len(batch) - stored

    async def flush(self) -> None:
        self._check_open()

    async def history(self, query: HistoryQuery) -> History:
        self._check_open()
        check_history_query(query, len(self._series))
        s = self._series[query.signal].merged()
        lo, hi = np.searchsorted(s.ts, [query.start, query.end], side="left")
        ts, value, quality = s.ts[lo:hi], s.value[lo:hi], s.quality[lo:hi]
        if query.every is None:
            ts, value, quality = ts[: query.limit], value[: query.limit], quality[: query.limit]
            return History(
                ts=ts.copy(),
                min=value.copy(),
                max=value.copy(),
                mean=value.copy(),
                last=value.copy(),
                count=np.ones(ts.shape[0], np.int64),
                quality=quality.copy(),
            )
        return aggregate(ts, value, quality, every=query.every, limit=query.limit)

    async def latest(self) -> Latest:
        self._check_open()
        sig = sorted(self._latest)
        rows = [self._latest[s] for s in sig]
        return Latest(
            signal=np.array(sig, np.int32),
            ts=np.array([r[0] for r in rows], np.int64),
            value=np.array([r[1] for r in rows], np.float64),
            quality=np.array([r[2] for r in rows], np.uint8),
        )

    async def append_records(self, records: Sequence[Record]) -> None:
        self._check_open()
        # Same validation and copy as a real backend's round trip through JSON.
        copies = [_round_trip(r) for r in records]
        for record in copies:
            self._seq += 1
            self._records[RECORD_TABLES[type(record)]].append((self._seq, record))

    async def records(self, query: RecordQuery) -> list[Record]:
        self._check_open()
        check_record_query(query)
        found = [
            (record_ts(r), seq, r)
            for seq, r in self._records[RECORD_TABLES[query.kind]]
            if (
                query.twin is None
                or (
                    not isinstance(r, DeadLetter) and in_twin(r.twin, query.twin, exact=query.exact)
                )
            )
            and (query.start is None or record_ts(r) >= query.start)
            and (query.end is None or record_ts(r) < query.end)
        ]
        found.sort(key=lambda row: (row[0], row[1]), reverse=True)
        return [r for _, _, r in found[: query.limit]]

    async def prune(self, *, older_than: int) -> dict[str, int]:
        self._check_open()
        counts = {"samples": sum(s.prune(older_than) for s in self._series)}
        for table, rows in self._records.items():
            newest: dict[str, tuple[int, int]] = {}  # alarm -> (ts, seq) of its newest event
            for seq, r in rows:
                if isinstance(r, AlarmEvent) and (r.ts, seq) > newest.get(r.alarm, (-1, -1)):
                    newest[r.alarm] = (r.ts, seq)
            kept = {seq for _, seq in newest.values()}  # each alarm's state for a restart
            keep = [(seq, r) for seq, r in rows if record_ts(r) >= older_than or seq in kept]
            counts[table] = len(rows) - len(keep)
            rows[:] = keep
        return counts

    async def put_meta(self, key: str, value: bytes) -> None:
        self._check_open()
        check_meta_key(key)
        self._meta[key] = bytes(value)

    async def get_meta(self, key: str) -> bytes | None:
        self._check_open()
        return self._meta.get(key)

    async def put_kpis(self, records: Sequence[KpiRecord]) -> None:
        self._check_open()
        for record in records:
            check_kpi_record(record)
        for record in records:
            # the same copy a JSON round trip makes: plain dicts, floats
            self._kpis[(record.twin, record.period, record.start)] = replace(
                record,
                values={k: None if v is None else float(v) for k, v in record.values.items()},
                inputs={k: float(v) for k, v in record.inputs.items()},
                flags=tuple(record.flags),
            )

    async def kpis(self, query: KpiQuery) -> list[KpiRecord]:
        self._check_open()
        check_kpi_query(query)
        found = [
            r
            for (twin, period, start), r in self._kpis.items()
            if twin == query.twin and period == query.period and query.start <= start < query.end
        ]
        found.sort(key=lambda r: r.start)
        return found[: query.limit]

    async def put_user(self, user: User) -> None:
        self._check_open()
        check_user(user)
        self._users[user.name] = user

    async def users(self) -> list[User]:
        self._check_open()
        return [self._users[name] for name in sorted(self._users)]

    async def put_token(self, token: Token) -> None:
        self._check_open()
        owner = next((t.id for t in self._tokens.values() if t.digest == token.digest), None)
        check_token(token, self._users, owner)
        self._tokens[token.id] = token

    async def tokens(self, user: str | None = None) -> list[Token]:
        self._check_open()
        found = [t for t in self._tokens.values() if user is None or t.user == user]
        return sorted(found, key=lambda t: (t.created, t.id))

    async def token_by_digest(self, digest: str) -> Token | None:
        self._check_open()
        return next((t for t in self._tokens.values() if t.digest == digest), None)

    async def put_model(self, info: ModelInfo, artifact: bytes) -> None:
        self._check_open()
        newest = max((v for n, v in self._models if n == info.name), default=0)
        check_model(info, artifact, newest)
        self._models[info.name, info.version] = (info, bytes(artifact))

    async def models(self, name: str | None = None) -> list[ModelInfo]:
        self._check_open()
        keys = sorted(k for k in self._models if name is None or k[0] == name)
        return [self._models[k][0] for k in keys]

    async def model_artifact(self, name: str, version: int) -> bytes | None:
        self._check_open()
        found = self._models.get((name, version))
        return None if found is None else found[1]

    def stats(self) -> StoreStats:
        return StoreStats(
            committed_samples=sum(s.rows for s in self._series),
            pending_samples=0,
            duplicates_dropped=self._dropped,
            flushes=0,
        )


def aggregate(ts: I64, value: F64, quality: U8, *, every: int, limit: int) -> History:
    """Per-bucket statistics of rows sorted by ts; buckets are multiples of ``every`` (ns)."""
    if ts.shape[0] == 0 or limit <= 0:
        return History.empty()
    bucket = np.floor_divide(ts, every) * every
    starts = np.flatnonzero(np.concatenate([[True], bucket[1:] != bucket[:-1]]))
    if starts.shape[0] > limit:
        rows = int(starts[limit])
        starts, ts, value, quality = starts[:limit], ts[:rows], value[:rows], quality[:rows]
        bucket = bucket[:rows]
    n = ts.shape[0]
    nan = np.isnan(value)
    finite_count = np.add.reduceat((~nan).astype(np.int64), starts)
    empty = finite_count == 0
    vmin = np.minimum.reduceat(np.where(nan, np.inf, value), starts)
    vmax = np.maximum.reduceat(np.where(nan, -np.inf, value), starts)
    total = np.add.reduceat(np.where(nan, 0.0, value), starts)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = total / finite_count
    vmin[empty] = vmax[empty] = mean[empty] = np.nan
    return History(
        ts=bucket[starts],
        min=vmin,
        max=vmax,
        mean=mean,
        last=value[np.append(starts[1:], n) - 1],
        count=np.diff(np.append(starts, n)).astype(np.int64),
        quality=np.bitwise_or.reduceat(quality, starts).astype(np.uint8),
    )


def _round_trip(record: Record) -> Record:
    """What a real backend would give back: JSON fields checked and copied."""
    if isinstance(record, Event):
        return replace(record, data=event_data(event_data_json(record)))
    if isinstance(record, CommandEvent):
        return replace(record, parameters=json.loads(command_parameters_json(record)))
    return record

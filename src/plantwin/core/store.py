"""The store seam: history of samples, state changes, events, dead letters and KPIs.

Implementations: DuckDB (embedded default) and, later, PostgreSQL. All pass the contract
suite in tests/store/test_contract.py unchanged.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Protocol, Self

import numpy as np

from plantwin.core.auth import Token, User
from plantwin.core.kpis import KpiQuery, KpiRecord
from plantwin.core.models import ModelInfo
from plantwin.core.records import AlarmEvent, CommandEvent, DeadLetter, Event, StateChange
from plantwin.core.samples import F64, I32, I64, U8, SampleBatch

Record = StateChange | Event | DeadLetter | AlarmEvent | CommandEvent
RecordKind = (
    type[StateChange] | type[Event] | type[DeadLetter] | type[AlarmEvent] | type[CommandEvent]
)


@dataclass(frozen=True, slots=True, kw_only=True)
class HistoryQuery:
    """Samples of one signal in [start, end); with ``every`` (ns) aggregated into buckets.

    Buckets are aligned to multiples of ``every`` since the epoch, so the same query always
    returns the same bucket edges.
    """

    signal: int
    start: int
    end: int
    every: int | None = None
    limit: int = 100_000

    def __post_init__(self) -> None:
        if self.end <= self.start:
            msg = f"history range is empty: end {self.end} is not after start {self.start}"
            raise ValueError(msg)
        if self.every is not None and self.every <= 0:
            msg = f"bucket width must be positive, got {self.every} ns"
            raise ValueError(msg)


@dataclass(frozen=True, slots=True, kw_only=True)
class History:
    """Columnar answer to a :class:`HistoryQuery`.

    Raw queries fill ``ts``, ``last`` (the value) and ``quality``; ``min``/``max``/``mean`` equal
    the value and ``count`` is 1. Bucketed queries give one row per non-empty bucket, ``ts``
    being the bucket start and ``quality`` the OR of the bucket's qualities.
    """

    ts: I64
    min: F64
    max: F64
    mean: F64
    last: F64
    count: I64
    quality: U8

    def __len__(self) -> int:
        return int(self.ts.shape[0])

    @classmethod
    def empty(cls) -> History:
        f = np.empty(0, np.float64)
        return cls(
            ts=np.empty(0, np.int64),
            min=f,
            max=f,
            mean=f,
            last=f,
            count=np.empty(0, np.int64),
            quality=np.empty(0, np.uint8),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class Latest:
    """Newest sample per signal, as committed: aligned arrays, one row per signal."""

    signal: I32
    ts: I64
    value: F64
    quality: U8


@dataclass(frozen=True, slots=True, kw_only=True)
class RecordQuery:
    """Records of one kind, optionally for one twin and its descendants, newest first.

    With ``exact=True`` only records of ``twin`` itself, not of its descendants (e.g. the
    newest own state change of a twin, with ``limit=1``); it needs a ``twin``.
    """

    kind: RecordKind
    twin: str | None = None
    exact: bool = False
    start: int | None = None
    end: int | None = None
    limit: int = 1000


@dataclass(frozen=True, slots=True, kw_only=True)
class StoreStats:
    committed_samples: int  # rows durably in the sample table
    pending_samples: int  # accepted but not yet written (lost on a crash, re-sent on retry)
    duplicates_dropped: int  # samples dropped because (signal, ts) was already stored
    flushes: int
    # Store-and-forward: samples whose write failed wait in a local disk spool (if any).
    spooled_samples: int = 0  # waiting in the spool for the store to accept them
    spooled_bytes: int = 0
    spool_oldest_age_s: float = 0.0  # how long the oldest waiting sample has waited (wall)
    spool_dropped: int = 0  # lost: segments set aside (unreadable, unknown signals), logged
    spool_refusals: int = 0  # writes a full spool turned away; their samples stay pending


class SampleStore(Protocol):
    """Append-only sample history with idempotent writes on (signal, ts)."""

    async def register_signals(self, keys: Sequence[str]) -> dict[str, int]:
        """Stable integer ids for signal keys; a key keeps its id across restarts."""
        ...

    async def append(self, batch: SampleBatch) -> None:
        """Accept samples; duplicates of stored (signal, ts) pairs are dropped.

        Small batches are coalesced; they are durable once :meth:`flush` returns, or when the
        store flushes on its own (size or age threshold).
        """
        ...

    async def flush(self) -> None: ...

    async def history(self, query: HistoryQuery) -> History: ...

    async def latest(self) -> Latest: ...


class RecordStore(Protocol):
    """State changes, events, dead letters, alarm events and command events."""

    async def append_records(self, records: Sequence[Record]) -> None: ...

    async def records(self, query: RecordQuery) -> list[Record]: ...

    async def prune(self, *, older_than: int) -> dict[str, int]:
        """Delete samples and records older than ``older_than`` (ns); counts per table."""
        ...


class MetaStore(Protocol):
    """Small named blobs that must survive a restart (e.g. the demo plant's snapshot)."""

    async def put_meta(self, key: str, value: bytes) -> None: ...

    async def get_meta(self, key: str) -> bytes | None: ...


class KpiStore(Protocol):
    """KPI results per twin and period, so that history is cheap (never pruned: they are small)."""

    async def put_kpis(self, records: Sequence[KpiRecord]) -> None:
        """Store records; one replaces a stored record of the same (twin, period, start)."""
        ...

    async def kpis(self, query: KpiQuery) -> list[KpiRecord]:
        """Records of the query's twin and period kind, oldest first."""
        ...


class AuthStore(Protocol):
    """Users and bearer tokens (tokens only as digests); never pruned."""

    async def put_user(self, user: User) -> None:
        """Store a user; one replaces the stored user of the same name."""
        ...

    async def users(self) -> list[User]:
        """Every user, by name."""
        ...

    async def put_token(self, token: Token) -> None:
        """Store a token; one replaces the stored token of the same id (e.g. to revoke it).

        A digest belongs to one id: storing another id with a stored digest is refused.
        """
        ...

    async def tokens(self, user: str | None = None) -> list[Token]:
        """Every token (of ``user`` if given), oldest first (ties by id)."""
        ...

    async def token_by_digest(self, digest: str) -> Token | None: ...


class ModelStore(Protocol):
    """Registered trained models: one record per (name, version), never replaced or pruned."""

    async def put_model(self, info: ModelInfo, artifact: bytes) -> None:
        """Store a new version; refused unless ``info.version`` is one more than the newest
        stored version of ``info.name`` (1 for a new name) and ``sha256``/``size`` match
        ``artifact``."""
        ...

    async def models(self, name: str | None = None) -> list[ModelInfo]:
        """Every version (of ``name`` if given), by name, then version."""
        ...

    async def model_artifact(self, name: str, version: int) -> bytes | None: ...


class Store(SampleStore, RecordStore, MetaStore, KpiStore, AuthStore, ModelStore, Protocol):
    """Everything the runtime needs from a store, opened with ``async with``."""

    def stats(self) -> StoreStats: ...

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

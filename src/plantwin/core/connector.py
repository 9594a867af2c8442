"""The connector seam: something that yields readings from machines and takes writes."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from types import TracebackType
from typing import Protocol, Self

from plantwin.core.records import DeadLetter
from plantwin.core.samples import RawBatch


class ConnectorStatus(StrEnum):
    STARTING = "starting"
    CONNECTED = "connected"
    RECONNECTING = "reconnecting"
    STOPPED = "stopped"
    FAILED = "failed"
    FINISHED = "finished"  # a finite source (a replayed file) has handed over everything


@dataclass(frozen=True, slots=True, kw_only=True)
class ConnectorHealth:
    """What a connector reports about itself; ``GET /api/v1/connectors`` shows it.

    Times are wall-clock nanoseconds since the epoch (UTC): they say when something happened
    to the connection, which is not plant time under a scaled clock.
    """

    name: str
    kind: str
    status: ConnectorStatus
    since: int | None = None  # when the current status began
    samples: int = 0  # readings handed to the pipeline
    samples_per_s: float = 0.0  # over the recent window (see ConnectorMeter)
    dropped: int = 0  # readings lost at the connector (e.g. a full device buffer)
    dead_letters: int = 0  # malformed input the connector turned into dead letters
    last_error: str | None = None
    last_error_at: int | None = None
    detail: Mapping[str, int | float | str] = field(default_factory=dict)  # kind-specific


class Connector(Protocol):
    """Opened with ``async with``; readings arrive through an async iterator, not callbacks."""

    name: str

    def readings(self) -> AsyncIterator[RawBatch | DeadLetter]: ...

    def health(self) -> ConnectorHealth: ...

    async def write(self, address: str, value: float) -> None:
        """Send a value to the machine (commands); raise ConnectorError if not possible."""
        ...

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...


class Inlet(Protocol):
    """A connector that others push readings into (the HTTP ingest endpoint), not a puller.

    Its ``readings()`` hands over what ``offer`` queued, in order. The queue is bounded: a
    full inlet refuses the whole offer instead of dropping part of it, so the sender retries.
    """

    name: str
    max_body_bytes: int  # largest request body the endpoint accepts for this inlet

    def offer(self, items: Sequence[RawBatch | DeadLetter]) -> bool:
        """Queue all of ``items`` and return True, or none of them and return False (full)."""
        ...

    async def close_intake(self) -> None:
        """Refuse further offers; return once every queued item has been handed over."""
        ...

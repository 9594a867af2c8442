"""The connector seam: something that yields readings from machines and takes writes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
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


@dataclass(frozen=True, slots=True, kw_only=True)
class ConnectorHealth:
    name: str
    kind: str
    status: ConnectorStatus
    samples: int = 0
    dropped: int = 0
    last_error: str | None = None


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

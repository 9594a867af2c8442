"""``HttpConnector``: readings pushed to ``POST /api/v1/ingest``, queued for the pipeline.

The API decodes and checks a request, then offers the result here; ``readings()`` hands
it to the pipeline in arrival order. The queue is bounded in samples: when it is full the
whole offer is refused and the endpoint answers 503 with Retry-After, so a sender backs off
instead of plantwin dropping data.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Self

from plantwin.core.connector import ConnectorHealth, ConnectorStatus
from plantwin.core.errors import ConnectorError
from plantwin.core.meter import ConnectorMeter
from plantwin.core.records import DeadLetter
from plantwin.core.samples import RawBatch
from plantwin.model.plant import ConnectorDef

Item = RawBatch | DeadLetter
MiB = 1 << 20


@dataclass(frozen=True, slots=True, kw_only=True)
class HttpOptions:
    max_body_bytes: int = 16 * MiB  # larger request bodies get 413
    queue_samples: int = 500_000  # samples waiting for the pipeline before offers get 503


def parse_http_options(declared: ConnectorDef) -> HttpOptions:
    where = f"connectors.{declared.name}"
    known = {"max_body_bytes": 16 * MiB, "queue_samples": 500_000}
    values: dict[str, int] = {}
    for key, raw in declared.options.items():
        if key not in known:
            msg = f"{where}.{key}: unknown option (options: {', '.join(known)})"
            raise ConnectorError(msg)
        if isinstance(raw, bool) or not isinstance(raw, int) or raw < 1:
            msg = f"{where}.{key}: expected a positive whole number, got {raw!r}"
            raise ConnectorError(msg)
        values[key] = raw
    return HttpOptions(**{**known, **values})


class HttpConnector:
    """Connector fed by the HTTP ingest endpoint (an :class:`~plantwin.core.connector.Inlet`).

    Supports: read (NDJSON and Arrow IPC bodies, decoded by the API), bounded queue with
    back-pressure (503 + Retry-After), no loss on a clean stop (``close_intake`` drains).
    No write: plantwin cannot call back an HTTP client.
    """

    kind = "http"

    def __init__(self, *, name: str, options: HttpOptions | None = None) -> None:
        self.name = name
        self.options = options or HttpOptions()
        self.max_body_bytes = self.options.max_body_bytes
        self._queue: deque[Item] = deque()
        self._queued = 0  # samples (and dead letters) in the queue
        self._ready = asyncio.Event()  # the queue is not empty, or the intake closed
        self._empty = asyncio.Event()
        self._empty.set()
        self._open = False  # taking offers
        self._entered = False  # inside ``async with``
        self._meter = ConnectorMeter()
        self.refused = 0  # offers refused because the queue was full
        self.accepted = 0  # samples accepted by offers

    async def __aenter__(self) -> Self:
        self._open = self._entered = True
        self._meter.set_status(ConnectorStatus.CONNECTED)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._open = self._entered = False
        self._ready.set()
        if self._queue:  # only when the pipeline never ran to take them
            self._meter.drop(self._queued)
            self._meter.error(f"{self._queued} queued samples were not handed over at close")
        self._meter.set_status(ConnectorStatus.STOPPED)

    @staticmethod
    def _size(item: Item) -> int:
        return len(item) if isinstance(item, RawBatch) else 1

    def offer(self, items: Sequence[Item]) -> bool:
        """Queue all of ``items`` (True) or, when the queue is full or closed, none (False).

        An offer larger than the whole queue is taken when the queue is empty, so a big
        request is delayed, never refused for ever.
        """
        size = sum(self._size(item) for item in items)
        if not self._open or (self._queue and self._queued + size > self.options.queue_samples):
            self.refused += 1
            return False
        for item in items:
            if isinstance(item, DeadLetter):
                self._meter.dead()
            elif not len(item):
                continue
            self._queue.append(item)
        self._queued += size
        self.accepted += size - sum(1 for i in items if isinstance(i, DeadLetter))
        if self._queue:
            self._empty.clear()
            self._ready.set()
        return True

    async def close_intake(self) -> None:
        """Refuse further offers; return once the pipeline has taken every queued item."""
        self._open = False
        self._ready.set()
        await self._empty.wait()

    def readings(self) -> AsyncIterator[Item]:
        if not self._entered:
            msg = f"connector {self.name!r} is not open; use 'async with' first"
            raise ConnectorError(msg)
        return self._readings()

    async def _readings(self) -> AsyncIterator[Item]:
        while True:
            while self._queue:
                item = self._queue.popleft()
                size = self._size(item)
                self._queued -= size
                if isinstance(item, RawBatch):
                    self._meter.count(size)
                if not self._queue:
                    self._empty.set()
                yield item
            if not self._open:
                return
            self._ready.clear()
            await self._ready.wait()

    def health(self) -> ConnectorHealth:
        detail: Mapping[str, int | float | str] = {
            "queued": self._queued,
            "queue_samples": self.options.queue_samples,
            "accepted": self.accepted,
            "refused_offers": self.refused,
        }
        return self._meter.health(self.name, self.kind, detail)

    async def write(self, address: str, value: float) -> None:
        msg = f"connector '{self.name}' receives HTTP pushes and cannot write to '{address}'"
        raise ConnectorError(msg)

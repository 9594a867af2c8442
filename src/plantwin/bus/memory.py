"""In-process bus: asyncio fan-out to bounded per-subscriber queues.

Backpressure is explicit: ``publish`` waits while any subscriber's queue is full, so a slow
consumer slows the producer instead of growing memory. Closing a subscription lets its
consumer drain what was published before the close, then its iteration ends.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from types import TracebackType
from typing import Self

from plantwin.core.bus import Message, Topic
from plantwin.core.errors import BusError

_CLOSE = object()


class MemorySubscription:
    def __init__(self, bus: MemoryBus, topic: Topic, maxsize: int) -> None:
        self._bus = bus
        self.topic = topic
        self.queue: asyncio.Queue[object] = asyncio.Queue(maxsize)
        self.closed = False

    def __aiter__(self) -> AsyncIterator[Message]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[Message]:
        while not (self.closed and self.queue.empty()):
            item = await self.queue.get()
            if item is _CLOSE:
                return
            yield item  # type: ignore[misc]  # only Messages and _CLOSE are queued

    def drain_nowait(self, limit: int) -> list[Message]:
        out: list[Message] = []
        while len(out) < limit:
            try:
                item = self.queue.get_nowait()
            except asyncio.QueueEmpty:
                break
            if item is _CLOSE:  # closed: the iterator ends once the queue is empty
                break
            out.append(item)  # type: ignore[arg-type]  # only Messages and _CLOSE are queued
        return out

    async def close(self) -> None:
        """Stop after what was already published; never waits for the reader."""
        if self.closed:
            return
        self.closed = True
        self._bus.detach(self)
        if not self.queue.full():
            # Wakes a reader waiting on an empty queue; a full queue has items to drain,
            # after which the reader sees ``closed`` and stops.
            self.queue.put_nowait(_CLOSE)


class MemoryBus:
    def __init__(self) -> None:
        self._subscribers: dict[Topic, list[MemorySubscription]] = {}
        self._open = False

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
        for subs in list(self._subscribers.values()):
            for sub in list(subs):
                await sub.close()

    async def publish(self, topic: Topic, message: Message) -> None:
        if not self._open:
            msg = f"cannot publish on '{topic}': the bus is not open (use 'async with')"
            raise BusError(msg)
        for sub in self._subscribers.get(topic, ()):
            await sub.queue.put(message)

    def subscribe(self, topic: Topic, *, maxsize: int = 256) -> MemorySubscription:
        if maxsize <= 0:
            msg = f"subscription queue size must be positive, got {maxsize}"
            raise BusError(msg)
        sub = MemorySubscription(self, topic, maxsize)
        self._subscribers.setdefault(topic, []).append(sub)
        return sub

    def detach(self, sub: MemorySubscription) -> None:
        subs = self._subscribers.get(sub.topic, [])
        if sub in subs:
            subs.remove(sub)

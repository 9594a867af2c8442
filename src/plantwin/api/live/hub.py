"""The live hub: takes what the pipeline publishes, numbers it, and wakes the clients.

The hub never waits for a client. It reads its bus subscriptions as fast as they fill and
appends to a bounded ring; each client session keeps its own position in that ring and
sends at its own pace. A slow client therefore costs only its own position (and, once it
falls out of the ring, a gap notice and a fresh snapshot), never the pipeline's or another
client's time.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

from plantwin.api.live import records
from plantwin.api.live.ring import Entry, Kind, Ring
from plantwin.core.bus import Message, Subscription
from plantwin.core.samples import SampleBatch
from plantwin.model.catalog import SignalCatalog


@dataclass(slots=True)
class HubStats:
    entries: int = 0
    samples: int = 0
    clients: int = 0
    gaps: int = 0  # clients that fell out of the ring (or resumed too late) and got a snapshot
    slow_disconnects: int = 0  # clients closed because one frame could not be sent in time
    frames: int = 0  # messages sent to clients
    bytes_sent: int = 0


class LiveHub:
    """Numbers live messages in one sequence and keeps the newest in a ring.

    ``stream`` identifies this run: sequence numbers start at 1 in every process, so a
    client resuming against another run is told about the gap instead of trusting numbers.
    """

    def __init__(
        self,
        catalog: SignalCatalog,
        *,
        max_entries: int = 20_000,
        max_samples: int = 2_000_000,
        drain: int = 256,
        send_timeout_s: float = 10.0,
    ) -> None:
        self.catalog = catalog
        self.ring = Ring(max_entries=max_entries, max_samples=max_samples)
        self.stream = uuid.uuid4().hex[:16]
        self.stats = HubStats()
        self.closed = False
        # A client whose socket takes no frame for this long is closed (4408): it is stalled.
        self.send_timeout_s = send_timeout_s
        self._drain = drain
        self._waiters: set[asyncio.Event] = set()
        # Encoded frames by (selection, first seq, last seq): clients that subscribed alike
        # and keep up get the same frames, built once. None: nothing selected in that run.
        self.encoded: OrderedDict[tuple[int, int, int], str | None] = OrderedDict()
        self.encoded_max = 256
        # Signal key by id (ids may have gaps), for the keys of sample points.
        self.keys: list[str] = [""] * catalog.size
        for key, sid in catalog.ids.items():
            self.keys[sid] = key

    def publish(self, message: Message) -> None:
        """Take one bus message (or a command event); never waits."""
        if isinstance(message, SampleBatch):
            if not len(message):
                return
            entry = Entry(self.ring.head + 1, time.monotonic(), Kind.SAMPLES, "", batch=message)
            self.stats.samples += len(message)
        else:
            encoded = records.encode(message)
            if encoded is None:
                return
            kind, twin, record = encoded
            entry = Entry(self.ring.head + 1, time.monotonic(), kind, twin, record=record)
        self.ring.append(entry)
        self.stats.entries += 1
        for waiter in self._waiters:
            waiter.set()

    def remember(self, key: tuple[int, int, int], text: str | None) -> None:
        self.encoded[key] = text
        if len(self.encoded) > self.encoded_max:
            self.encoded.popitem(last=False)

    def watch(self) -> asyncio.Event:
        """An event set whenever something new arrives (or the hub closes)."""
        waiter = asyncio.Event()
        self._waiters.add(waiter)
        self.stats.clients += 1
        return waiter

    def unwatch(self, waiter: asyncio.Event) -> None:
        if waiter in self._waiters:
            self._waiters.discard(waiter)
            self.stats.clients -= 1

    async def run(self, subscriptions: Sequence[Subscription]) -> None:
        """Read the subscriptions until they close; then wake the clients to end."""
        try:
            async with asyncio.TaskGroup() as group:
                for sub in subscriptions:
                    group.create_task(self._read(sub))
        finally:
            self.close()

    async def _read(self, sub: Subscription) -> None:
        async for message in sub:
            self.publish(message)
            for more in sub.drain_nowait(self._drain):  # a burst: one wake-up for all
                self.publish(more)

    def close(self) -> None:
        self.closed = True
        for waiter in self._waiters:
            waiter.set()

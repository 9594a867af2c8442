"""The live data path: connectors -> ingest -> bus -> twin -> bus -> store.

Stages are tasks joined by bounded queues (the inbox and the bus subscriptions) inside one
TaskGroup, so a slow store slows ingest instead of filling memory. Shutdown is staged: stop
the connectors, then let every stage drain what reached it before closing the next one, then
flush the store, so a clean stop loses nothing that was read.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass

from plantwin.core.bus import Bus, Subscription, Topic
from plantwin.core.connector import Connector
from plantwin.core.records import DeadLetter
from plantwin.core.samples import RawBatch, SampleBatch
from plantwin.core.store import Record, Store
from plantwin.ingest import Ingestor
from plantwin.twin import TwinState

log = logging.getLogger(__name__)

_END = object()


@dataclass(slots=True)
class PipelineStats:
    batches: int = 0
    samples: int = 0
    derived: int = 0
    state_changes: int = 0
    dead_letters: int = 0
    records_written: int = 0
    stored_through: int = 0  # newest sample time handed to the store (connectors run in order)


class Pipeline:
    def __init__(
        self,
        *,
        ingestor: Ingestor,
        twin: TwinState,
        store: Store,
        bus: Bus,
        connectors: Sequence[Connector],
        inbox_size: int = 64,
        record_flush_s: float = 0.25,
    ) -> None:
        self.ingestor = ingestor
        self.twin = twin
        self.store = store
        self.bus = bus
        self.connectors = list(connectors)
        self.inbox: asyncio.Queue[object] = asyncio.Queue(inbox_size)
        self.record_flush_s = record_flush_s
        self.stats = PipelineStats()
        self.connector_errors: dict[str, str] = {}

    async def run(self, stop: asyncio.Event) -> None:
        """Run until ``stop`` is set, then drain every stage and flush the store."""
        twin_sub = self.bus.subscribe(Topic.SAMPLES)
        store_subs = [self.bus.subscribe(Topic.SAMPLES), self.bus.subscribe(Topic.DERIVED)]
        records_sub = self.bus.subscribe(Topic.RECORDS, maxsize=4096)
        async with asyncio.TaskGroup() as group:
            pumps = [group.create_task(self._pump(c)) for c in self.connectors]
            ingest = group.create_task(self._ingest())
            twin = group.create_task(self._twin(twin_sub))
            stores = [group.create_task(self._store_samples(s)) for s in store_subs]
            records = group.create_task(self._store_records(records_sub))
            await stop.wait()
            for pump in pumps:
                pump.cancel()
            await asyncio.gather(*pumps, return_exceptions=True)
            await self.inbox.put(_END)
            await ingest
            await twin_sub.close()
            await twin
            for sub in (*store_subs, records_sub):
                await sub.close()
            await asyncio.gather(*stores, records)
        await self.store.flush()

    async def submit(self, item: RawBatch | DeadLetter) -> None:
        """Feed readings from outside a connector (e.g. HTTP ingest) into the pipeline."""
        await self.inbox.put(item)

    async def _pump(self, connector: Connector) -> None:
        try:
            async for item in connector.readings():
                await self.inbox.put(item)
        except asyncio.CancelledError:
            raise
        except Exception as err:  # a broken connector must not stop the others
            self.connector_errors[connector.name] = f"{type(err).__name__}: {err}"
            log.exception("connector %s stopped", connector.name)

    async def _ingest(self) -> None:
        while True:
            item = await self.inbox.get()
            if item is _END:
                return
            if isinstance(item, DeadLetter):
                self.stats.dead_letters += 1
                await self.bus.publish(Topic.RECORDS, item)
                continue
            assert isinstance(item, RawBatch)
            result = self.ingestor.process(item)
            for dead in result.dead:
                await self.bus.publish(Topic.RECORDS, dead)
            self.stats.dead_letters += len(result.dead)
            if len(result.batch):
                self.stats.batches += 1
                self.stats.samples += len(result.batch)
                await self.bus.publish(Topic.SAMPLES, result.batch)

    async def _twin(self, sub: Subscription) -> None:
        async for message in sub:
            if not isinstance(message, SampleBatch):
                continue
            update = self.twin.apply(message)
            if len(update.derived):
                self.stats.derived += len(update.derived)
                await self.bus.publish(Topic.DERIVED, update.derived)
            for change in update.changes:
                await self.bus.publish(Topic.RECORDS, change)
            self.stats.state_changes += len(update.changes)

    async def _store_samples(self, sub: Subscription) -> None:
        async for message in sub:
            if isinstance(message, SampleBatch) and len(message):
                await self.store.append(message)
                if sub.topic is Topic.SAMPLES:
                    newest = int(message.ts.max())
                    self.stats.stored_through = max(self.stats.stored_through, newest)

    async def _store_records(self, sub: Subscription) -> None:
        """Records arrive one by one; write them in small batches, at least every flush period."""
        pending: list[Record] = []
        done = asyncio.Event()

        async def flush_periodically() -> None:
            nonlocal pending
            while True:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(done.wait(), self.record_flush_s)
                batch, pending = pending, []
                await self._write_records(batch)
                if done.is_set() and not pending:
                    return  # records that arrived during the last write are written too

        flusher = asyncio.create_task(flush_periodically())
        try:
            async for message in sub:
                if not isinstance(message, SampleBatch):
                    pending.append(message)
        finally:
            done.set()
            await flusher

    async def _write_records(self, records: list[Record]) -> None:
        if records:
            await self.store.append_records(records)
            self.stats.records_written += len(records)

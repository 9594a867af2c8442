"""The live data path: connectors -> ingest -> bus -> twin -> bus -> store.

Stages are tasks joined by bounded queues (the inbox and the bus subscriptions) inside one
TaskGroup, so a slow store slows ingest instead of filling memory. Shutdown is staged: stop
the connectors, then let every stage drain what reached it before closing the next one, then
flush the store, so a clean stop loses nothing that was read.

A connector that acknowledges its source late (MQTT QoS 1 with ``ack: stored``) sets
``on_durable`` on a RawBatch; the confirm stage calls it once the store has durably accepted
the samples of that batch and of every batch before it (committed, or spooled to disk). It
flushes the store for that as soon as receipts wait, so each flush confirms every receipt
that arrived while the one before ran: a group commit, whose size grows with the load.
A receipt is never called if the store refused a sample batch it covers (spool and memory
full): the source keeps those messages (an MQTT broker sends unacknowledged QoS 1/2 messages
again on the client's next connection), and the store drops what was stored already.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from plantwin.core.bus import Bus, Subscription, Topic
from plantwin.core.clock import Clock
from plantwin.core.connector import Connector
from plantwin.core.errors import StoreError
from plantwin.core.records import DeadLetter, Event
from plantwin.core.samples import RawBatch, SampleBatch
from plantwin.core.simulator import StreamModel
from plantwin.core.store import Record, Store
from plantwin.ingest import Ingestor
from plantwin.processing.processor import RuleProcessor
from plantwin.twin import TwinState
from plantwin.twin.state import TwinUpdate

log = logging.getLogger(__name__)

_END = object()


class HealthStage(Protocol):
    """Scores what the twin saw into health samples (analytics/anomaly/online.py)."""

    def process(self, batch: SampleBatch, derived: SampleBatch) -> tuple[SampleBatch, list[Event]]:
        """Health samples (canonical) and explanation events for raw and derived samples."""
        ...


def with_health(derived: SampleBatch, scored: SampleBatch, more: SampleBatch) -> SampleBatch:
    """The batch's derived samples with the health samples and what the twin derived from
    them, canonical. Health signals are never derived (the plant file computes a signal
    one way only), so without ``more`` a merge keeps the order without a sort."""
    if not len(more):
        return SampleBatch.merge_disjoint(derived, scored)
    return SampleBatch.concat([derived, scored, more]).canonical()


@dataclass(slots=True)
class PipelineStats:
    batches: int = 0
    samples: int = 0
    derived: int = 0
    state_changes: int = 0
    dead_letters: int = 0
    records_written: int = 0
    records_failed: int = 0  # records the store refused even one by one (logged)
    samples_refused: int = 0  # samples the store refused (spool and memory full; logged)
    # Progress, for checkpoints: sample times are through a stage once it has handed on
    # everything up to them (each connector delivers in time order).
    stored_through: int = 0  # raw samples appended to the store
    twin_through: int = 0  # raw samples applied to the twin, outputs published
    derived_published: int = 0  # derived batches published
    derived_stored: int = 0  # derived batches appended to the store
    records_published: int = 0
    alarm_events: int = 0
    confirmed: int = 0  # receipts (on_durable) called: source acknowledgements sent
    withheld: int = 0  # receipts not called: the store refused samples they cover (sent again)


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
        processor: RuleProcessor | None = None,
        clock: Clock | None = None,
        tick_s: float = 1.0,
        coalesce: int = 32,
        model: StreamModel | None = None,
        health: HealthStage | None = None,
    ) -> None:
        self.ingestor = ingestor
        self.twin = twin
        self.store = store
        self.bus = bus
        self.connectors = list(connectors)
        self.inbox: asyncio.Queue[object] = asyncio.Queue(inbox_size)
        self.record_flush_s = record_flush_s
        self.processor = processor
        self.clock = clock
        self.tick_s = tick_s
        self.coalesce = coalesce  # most waiting batches the twin stage takes as one
        self.model = model  # co-simulation (FMUs), stepped in the twin stage
        self.health = health
        # How far the twin stage is behind the plant clock (a fast demo, a busy store): time
        # rules (stale data) measure against the clock minus this, not against data not yet read.
        self.lag_ns = 0
        self.stats = PipelineStats()
        self.connector_errors: dict[str, str] = {}
        self.sources_ended = asyncio.Event()  # every connector's readings ended by themselves
        self._stopping = asyncio.Event()
        # Receipts wait here with the count of sample batches published before them; the
        # sample store stage counts what it appended, in the same order.
        self._receipts: deque[tuple[int, Callable[[], None]]] = deque()
        self._receipt_added = asyncio.Event()
        self._appended = 0
        self._refused: deque[int] = deque()  # numbers of sample batches the store refused
        self._appended_more = asyncio.Event()
        self._stores_done = asyncio.Event()

    @property
    def unconfirmed(self) -> int:
        """Receipts waiting for their samples to become durable."""
        return len(self._receipts)

    async def run(self, stop: asyncio.Event) -> None:
        """Run until ``stop`` is set, then drain every stage and flush the store."""
        twin_sub = self.bus.subscribe(Topic.SAMPLES)
        store_subs = [self.bus.subscribe(Topic.SAMPLES), self.bus.subscribe(Topic.DERIVED)]
        records_sub = self.bus.subscribe(Topic.RECORDS, maxsize=4096)
        async with asyncio.TaskGroup() as group:
            pumps = [group.create_task(self._pump(c)) for c in self.connectors]
            watcher = group.create_task(self._watch_sources(pumps))
            ingest = group.create_task(self._ingest())
            twin = group.create_task(self._twin(twin_sub))
            stores = [group.create_task(self._store_samples(s)) for s in store_subs]
            records = group.create_task(self._store_records(records_sub))
            ticks = group.create_task(self._ticks()) if self.processor is not None else None
            confirm = group.create_task(self._confirm())
            await stop.wait()
            self._stopping.set()
            await asyncio.gather(*pumps)  # each hands over the reading it holds, then ends
            watcher.cancel()
            await self.inbox.put(_END)
            await ingest
            await twin_sub.close()
            await twin
            if ticks is not None:
                await ticks  # ends on stopping, after publishing what operators did last
            for sub in (*store_subs, records_sub):
                await sub.close()
            await asyncio.gather(*stores, records)
            self._stores_done.set()
            await confirm  # flushes, then confirms every receipt left
        await self.store.flush()

    async def _watch_sources(self, pumps: list[asyncio.Task[None]]) -> None:
        """Set ``sources_ended`` once every pump ended without being stopped (finite sources)."""
        if pumps:
            await asyncio.wait(pumps)  # unlike gather, never cancels the pumps
        if not self._stopping.is_set():
            self.sources_ended.set()

    async def settle(self, through: int, *, poll_s: float = 0.05) -> None:
        """Wait until everything made from raw samples up to ``through`` is committed.

        Raw samples, the derived samples and state changes computed from them, and dead
        letters are all handed to the store, then a flush commits them. A checkpoint of a
        source (the demo plant's snapshot) taken at ``through`` is safe to save afterwards.
        """
        # Polling: the counters move on every batch, and notifying waiters there would cost
        # the hot path more than a check every 50 ms costs here.
        stats = self.stats
        while min(stats.stored_through, stats.twin_through) < through:  # noqa: ASYNC110
            await asyncio.sleep(poll_s)
        derived, records = stats.derived_published, stats.records_published
        while (  # noqa: ASYNC110
            stats.derived_stored < derived or stats.records_written + stats.records_failed < records
        ):
            await asyncio.sleep(poll_s)
        await self.store.flush()

    async def _pump(self, connector: Connector) -> None:
        """Move readings into the inbox until stopping; never drops one it already holds."""
        readings = aiter(connector.readings())
        stopping = asyncio.ensure_future(self._stopping.wait())
        getter: asyncio.Future[RawBatch | DeadLetter] | None = None
        try:
            while not self._stopping.is_set():
                getter = asyncio.ensure_future(anext(readings))
                await asyncio.wait({getter, stopping}, return_when=asyncio.FIRST_COMPLETED)
                if not getter.done():  # stopping while the connector waits for data
                    getter.cancel()
                    await asyncio.gather(getter, return_exceptions=True)
                    return
                try:
                    item = getter.result()
                except StopAsyncIteration:
                    return
                await self.inbox.put(item)  # the ingest stage runs until all pumps end
        except Exception as err:  # a broken connector must not stop the others
            self.connector_errors[connector.name] = f"{type(err).__name__}: {err}"
            log.exception("connector %s stopped", connector.name)
        finally:
            stopping.cancel()
            if getter is not None and not getter.done():  # cancelled from outside
                getter.cancel()
            close = getattr(readings, "aclose", None)
            if close is not None:
                with contextlib.suppress(Exception):
                    await close()

    async def _ingest(self) -> None:
        while True:
            item = await self.inbox.get()
            if item is _END:
                return
            if isinstance(item, DeadLetter):
                await self._publish_record(item)
                self.stats.dead_letters += 1
                continue
            assert isinstance(item, RawBatch)
            result = self.ingestor.process(item) if len(item) else None
            if result is not None:
                for dead in result.dead:
                    await self._publish_record(dead)
                self.stats.dead_letters += len(result.dead)
            batch = result.batch if result is not None else None
            if batch is not None and len(batch):
                self.stats.batches += 1
                self.stats.samples += len(batch)
            if item.on_durable is not None:
                # Before the batch is published: the store stage finds the receipt waiting
                # if it has to refuse the batch.
                self._receipts.append((self.stats.batches, item.on_durable))
                self._receipt_added.set()
            if batch is not None and len(batch):
                await self.bus.publish(Topic.SAMPLES, batch)

    async def _publish_record(self, record: Record) -> None:
        self.stats.records_published += 1
        await self.bus.publish(Topic.RECORDS, record)

    async def _twin(self, sub: Subscription) -> None:
        async for first in sub:
            if not isinstance(first, SampleBatch) or not len(first):
                continue
            # Behind? Take the backlog as one batch: the twin and the rules cost mostly per
            # call, so this keeps a loaded pipeline from falling further behind. A stage
            # that keeps up sees no backlog and adds no latency.
            backlog = [
                m for m in sub.drain_nowait(self.coalesce) if isinstance(m, SampleBatch) and len(m)
            ]
            message = SampleBatch.concat([first, *backlog]).canonical() if backlog else first
            update = self.twin.apply(message)
            if self.model is not None:
                update = self._cosimulate(self.model, message, update)
            if self.health is not None:
                update = await self._health(message, update)
            if len(update.derived):
                self.stats.derived += len(update.derived)
                self.stats.derived_published += 1
                await self.bus.publish(Topic.DERIVED, update.derived)
            for change in update.changes:
                await self._publish_record(change)
            self.stats.state_changes += len(update.changes)
            newest = int(message.ts.max())
            if self.processor is not None:
                if self.clock is not None:
                    self.lag_ns = max(0, self.clock.now_ns() - newest)
                # Raw and derived samples in one pass, so delays and references see them in
                # time order together (a deviation from a derived model output, for one).
                alarms = self.processor.process(message, update.changes, derived=update.derived)
                for record in alarms:
                    await self._publish_record(record)
                self.stats.alarm_events += len(alarms)
            self.stats.twin_through = max(self.stats.twin_through, newest)

    def _cosimulate(
        self, model: StreamModel, message: SampleBatch, update: TwinUpdate
    ) -> TwinUpdate:
        """Step the model with the batch; its samples join the batch's derived samples.

        The twin takes them like a batch of its own (derived and window signals over model
        outputs follow), so rules see model outputs and residuals with the samples they came from.
        """
        produced = model.advance(SampleBatch.merge_disjoint(message, update.derived))
        if not len(produced):
            return update
        more = self.twin.apply(produced)
        derived = SampleBatch.concat([update.derived, produced, more.derived]).canonical()
        return TwinUpdate(derived=derived, changes=[*update.changes, *more.changes])

    async def _health(self, message: SampleBatch, update: TwinUpdate) -> TwinUpdate:
        """Score the batch into health signals, take them into the twin (rules see them
        with the derived samples) and publish the explanation events."""
        assert self.health is not None
        scored, events = self.health.process(message, update.derived)
        for event in events:
            await self._publish_record(event)
        if not len(scored):
            return update
        more = self.twin.apply(scored)
        derived = with_health(update.derived, scored, more.derived)
        return TwinUpdate(derived=derived, changes=[*update.changes, *more.changes])

    async def _ticks(self) -> None:
        """Time-driven rules (stale data, delays, shelving) and operator actions' events."""
        processor = self.processor
        assert processor is not None
        loop = asyncio.get_running_loop()
        next_tick = loop.time()
        while True:
            stopping = self._stopping.is_set()
            processor.submitted.clear()  # before draining: a later action wakes us again
            records = list(processor.drain())
            if self.clock is not None and not stopping and loop.time() >= next_tick:
                records.extend(processor.tick(self.clock.now_ns() - self.lag_ns))
                next_tick = loop.time() + self.tick_s
            records.extend(processor.drain())
            for record in records:
                await self._publish_record(record)
            self.stats.alarm_events += len(records)
            if stopping:
                return
            # Operator actions are stored at once; time-driven rules every tick.
            waits = {
                asyncio.ensure_future(self._stopping.wait()),
                asyncio.ensure_future(processor.submitted.wait()),
            }
            timeout = max(0.0, next_tick - loop.time())
            _, pending = await asyncio.wait(waits, timeout=timeout, return_when="FIRST_COMPLETED")
            for task in pending:
                task.cancel()

    async def _store_samples(self, sub: Subscription) -> None:
        async for message in sub:
            if not isinstance(message, SampleBatch) or not len(message):
                continue
            try:
                await self.store.append(message)
            except StoreError as err:  # counted and logged: one refused batch stops nothing
                self.stats.samples_refused += len(message)
                log.error("the store refused %d samples: %s", len(message), err)
                number = self._appended + 1
                if (
                    sub.topic is Topic.SAMPLES
                    and self._receipts
                    and self._receipts[-1][0] >= number
                ):
                    self._refused.append(number)  # the receipt covering it must not be called
            if sub.topic is Topic.SAMPLES:
                newest = int(message.ts.max())
                self.stats.stored_through = max(self.stats.stored_through, newest)
                self._appended += 1
                self._appended_more.set()
            else:
                self.stats.derived_stored += 1

    async def _confirm(self) -> None:
        """Call receipts, in order, once the store has durably accepted their samples."""
        failing = False
        while True:
            if not self._receipts:
                if self._stores_done.is_set():
                    return
                self._receipt_added.clear()
                await _first(self._receipt_added, self._stores_done)
                continue
            upto = self._receipts[-1][0]
            while self._appended < upto:  # the store stage has not appended them yet
                self._appended_more.clear()
                if self._appended < upto:
                    await self._appended_more.wait()
            try:
                await self.store.flush()
            except StoreError as err:  # no spool, or it failed too: the source keeps them
                if self._stores_done.is_set():
                    left = len(self._receipts)
                    log.warning("stopping with %d batches unconfirmed (sent again): %s", left, err)
                    return
                if not failing:
                    log.warning("cannot confirm samples to their sources yet: %s", err)
                failing = True
                await asyncio.sleep(self.record_flush_s)
                continue
            if failing:
                log.info("samples are confirmed to their sources again")
            failing = False
            while self._receipts and self._receipts[0][0] <= upto:
                covers, receipt = self._receipts.popleft()
                if self._covers_refused(covers):
                    continue
                try:
                    receipt()
                except Exception:  # one connector's ack failing must not stop the others
                    log.exception("confirming samples to their source failed")
                self.stats.confirmed += 1

    def _covers_refused(self, covers: int) -> bool:
        """Whether a receipt covers a batch the store refused; if so it is withheld.

        Its source keeps the messages (an MQTT broker sends them again on the next
        connection); the receipts after it are called, their samples are durable.
        """
        if not self._refused or self._refused[0] > covers:
            return False
        while self._refused and self._refused[0] <= covers:
            self._refused.popleft()
        self.stats.withheld += 1
        log.warning("not confirming samples the store refused to their source (sent again)")
        return True

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
        """Write a batch; if the store refuses it, write one by one and log the refused."""
        if not records:
            return
        try:
            await self.store.append_records(records)
        except StoreError:
            for record in records:
                try:
                    await self.store.append_records([record])
                except StoreError as err:
                    self.stats.records_failed += 1
                    log.error("the store refused a %s record: %s", type(record).__name__, err)
                else:
                    self.stats.records_written += 1
            return
        self.stats.records_written += len(records)


async def _first(*events: asyncio.Event) -> None:
    """Return once any of ``events`` is set."""
    waits = [asyncio.ensure_future(e.wait()) for e in events]
    try:
        await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for w in waits:
            w.cancel()

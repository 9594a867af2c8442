"""Alarm notifications to webhooks: retried with backoff, dead-lettered when they keep failing.

Each webhook of the plant file gets the alarm transitions at or above its priority as JSON
POSTs, in order, from its own queue, so a slow or dead endpoint delays only itself. A
delivery is retried with exponential backoff and jitter; after the last attempt the payload
is kept as a dead letter (source ``webhook:<name>``) with the reason, so nothing is lost
silently. A queue that overflows (the endpoint is down for long) dead-letters the oldest.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import math
import time
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

import httpx

from plantwin.core.backoff import Backoff
from plantwin.core.bus import Subscription
from plantwin.core.clock import iso
from plantwin.core.records import AlarmEvent, AlarmState, DeadLetter
from plantwin.model.plant import NotificationDef
from plantwin.processing.alarms import PRIORITY_RANK

log = logging.getLogger(__name__)

DeadSink = Callable[[DeadLetter], Awaitable[None]]
_RANK_BY_NAME = {p.value: r for p, r in PRIORITY_RANK.items()}


@dataclass(slots=True)
class WebhookStats:
    sent: int = 0
    failed: int = 0  # dead-lettered after the last retry or a queue overflow
    retries: int = 0
    queued: int = 0


_HIDDEN = (AlarmState.SHELVED, AlarmState.SUPPRESSED, AlarmState.OUT_OF_SERVICE)
_OPERATOR = frozenset({"ack", "reset", "shelve", "unshelve", "out_of_service", "in_service"})


def _pages(event: AlarmEvent) -> bool:
    """Whether a webhook hears of it: what the operator would see, and operator actions.

    Activations of shelved, suppressed or out-of-service alarms, and low-priority ones held
    back in a flood, do not page anyone, as they do not sound in the control room.
    """
    if event.action in _OPERATOR:
        return True
    return event.annunciated and event.state not in _HIDDEN


def payload(event: AlarmEvent) -> bytes:
    body = {
        "alarm": event.alarm,
        "twin": event.twin,
        "action": event.action,
        "state": event.state.value,
        "previous": event.previous.value,
        "priority": event.priority,
        "time": iso(event.ts),
        "active": event.active,
        "acknowledged": event.acked,
        "first_out": event.first_out,
        "annunciated": event.annunciated,
        "value": event.value if event.value is not None and math.isfinite(event.value) else None,
        "message": event.message,
        "user": event.user or None,
        "reason": event.reason or None,
    }
    return json.dumps(body, ensure_ascii=False, allow_nan=False, default=str).encode()


class Webhook:
    """One endpoint: a bounded queue and a worker that posts in order."""

    def __init__(
        self,
        target: NotificationDef,
        client: httpx.AsyncClient,
        dead: DeadSink,
        *,
        backoff_s: float = 0.5,
        max_backoff_s: float = 30.0,
        capacity: int = 1000,
    ) -> None:
        self.target = target
        self.client = client
        self.dead = dead
        self.backoff_s = backoff_s
        self.max_backoff_s = max_backoff_s
        self.capacity = capacity
        self.queue: deque[bytes] = deque()
        self.ready = asyncio.Event()
        self.stats = WebhookStats()
        self.min_rank = PRIORITY_RANK[target.min_priority]

    def wants(self, event: AlarmEvent) -> bool:
        return _RANK_BY_NAME.get(event.priority, 0) >= self.min_rank

    async def offer(self, body: bytes) -> None:
        if len(self.queue) >= self.capacity:
            oldest = self.queue.popleft()
            await self._dead(oldest, f"queue full ({self.capacity} waiting); oldest dropped")
        self.queue.append(body)
        self.stats.queued = len(self.queue)
        self.ready.set()

    async def run(self, closing: asyncio.Event) -> None:
        """Deliver until ``closing`` is set and the queue is empty."""
        while True:
            if not self.queue:
                if closing.is_set():
                    return
                self.ready.clear()
                waiters = {
                    asyncio.ensure_future(self.ready.wait()),
                    asyncio.ensure_future(closing.wait()),
                }
                _, pending = await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
                for task in pending:
                    task.cancel()
                continue
            body = self.queue[0]
            await self._deliver(body)
            self.queue.popleft()
            self.stats.queued = len(self.queue)

    async def _deliver(self, body: bytes) -> None:
        attempts = self.target.retries + 1
        backoff = Backoff(initial=self.backoff_s, maximum=max(self.backoff_s, self.max_backoff_s))
        error = ""
        for attempt in range(attempts):
            try:
                response = await self.client.post(
                    self.target.url,
                    content=body,
                    headers={"content-type": "application/json"},
                    timeout=self.target.timeout,
                )
            except Exception as err:
                error = f"{type(err).__name__}: {err}"
            else:
                if response.is_success:
                    self.stats.sent += 1
                    return
                error = f"HTTP {response.status_code}"
            if attempt + 1 < attempts:
                self.stats.retries += 1
                await asyncio.sleep(backoff.next())  # jittered: no thundering herd
        await self._dead(body, f"{attempts} attempts failed; last: {error}")

    async def _dead(self, body: bytes, reason: str) -> None:
        self.stats.failed += 1
        log.warning("webhook %s: %s", self.target.name, reason)
        letter = DeadLetter(
            received=time.time_ns(),
            source=f"webhook:{self.target.name}",
            reason=reason,
            raw=body,
            location=self.target.url,
        )
        with contextlib.suppress(Exception):  # the store may be closing; the log has it
            await self.dead(letter)


class Notifier:
    """Fans alarm events from the records topic out to every webhook."""

    def __init__(
        self, targets: Sequence[NotificationDef], dead: DeadSink, *, backoff_s: float = 0.5
    ) -> None:
        self.client = httpx.AsyncClient()
        self.hooks = [Webhook(t, self.client, dead, backoff_s=backoff_s) for t in targets]

    async def run(self, sub: Subscription, *, drain_s: float = 10.0) -> None:
        """Until ``sub`` closes; then up to ``drain_s`` seconds to deliver what is queued."""
        closing = asyncio.Event()
        workers = [asyncio.create_task(h.run(closing)) for h in self.hooks]
        try:
            async for message in sub:
                if not isinstance(message, AlarmEvent) or not _pages(message):
                    continue
                try:
                    body = payload(message)
                except (TypeError, ValueError) as err:  # cannot be sent: keep it, go on
                    log.error("alarm event of %s not serialisable: %s", message.alarm, err)
                    continue
                for hook in self.hooks:
                    if hook.wants(message):
                        await hook.offer(body)
            closing.set()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.gather(*workers), drain_s)
        finally:
            for worker in workers:
                worker.cancel()
            await asyncio.gather(*workers, return_exceptions=True)
            for hook in self.hooks:  # still queued at shutdown: keep them as dead letters
                while hook.queue:
                    await hook._dead(hook.queue.popleft(), "not delivered before shutdown")
            await self.client.aclose()

    def stats(self) -> dict[str, WebhookStats]:
        return {h.target.name: h.stats for h in self.hooks}

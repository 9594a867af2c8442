"""What the JSON and the Sparkplug B connector share: session life cycle, readings, health."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import AsyncIterator, Callable
from types import TracebackType
from typing import ClassVar, Self

from plantwin.connectors.mqtt.msub import MsubSession
from plantwin.connectors.mqtt.session import Message, Session
from plantwin.core.connector import ConnectorHealth, ConnectorStatus
from plantwin.core.errors import ConnectorError
from plantwin.core.records import DeadLetter
from plantwin.core.samples import RawBatch

log = logging.getLogger(__name__)

Reading = RawBatch | DeadLetter


class MqttBase:
    """An ``async with`` connector over one :class:`Session`; subclasses decode messages.

    The broker may be down at start: the connector opens anyway, reports ``reconnecting``
    and keeps trying; ``connect_timeout`` only bounds how long ``__aenter__`` waits for the
    first connection (so the first readings are not missed by a plant that starts at once).
    """

    kind: ClassVar[str]
    batch_limit = 5000  # messages decoded into one RawBatch
    # Each batch costs the pipeline a fixed amount (ingest, bus, twin, store), so a few
    # messages are given a moment to become many: up to 2 ms more latency, far fewer batches.
    linger_below = 256
    linger_s = 0.002

    def __init__(
        self, name: str, session: Session | MsubSession, *, connect_timeout: float = 5.0
    ) -> None:
        self.name = name
        self.session = session
        self.connect_timeout = connect_timeout
        self.samples = 0
        self.dead_letters = 0
        self.dropped = 0
        self._open = False

    def _decode(self, messages: list[Message]) -> list[Reading]:
        raise NotImplementedError

    async def __aenter__(self) -> Self:
        self.session.start()
        self._open = True
        await self.session.wait_connected(self.connect_timeout)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._open = False
        await self.session.close()
        left = self.session.pending
        if left and self._kept_by_broker():
            log.info(
                "connector %s: %d unacknowledged message(s) left to the broker", self.name, left
            )
        elif left:
            # Acknowledged to the broker (or in a clean session) but never handed on.
            self.dropped += left
            log.warning("connector %s: %d message(s) arrived after ingest stopped", self.name, left)

    def _kept_by_broker(self) -> bool:
        """Unacknowledged messages come again: acks wait for the store, the session persists."""
        o = self.session.options
        return o.ack == "stored" and o.qos > 0 and not o.clean_session

    def readings(self) -> AsyncIterator[Reading]:
        if not self._open:
            msg = f"connector {self.name!r} is not open; use 'async with' first"
            raise ConnectorError(msg)
        return self._readings()

    async def _readings(self) -> AsyncIterator[Reading]:
        session = self.session
        while self._open:
            await session.wait()
            if session.pending < self.linger_below:
                await asyncio.sleep(self.linger_s)
            messages = session.take(self.batch_limit)
            items = self._decode(messages)  # dead letters first, then one batch
            if session.options.ack == "stored" and session.options.qos > 0:
                items = _with_receipt(items, self.name, _confirmer(session, messages))
            handed = 0
            try:
                for item in items:
                    if isinstance(item, RawBatch):
                        self.samples += len(item)
                    else:
                        self.dead_letters += 1
                    yield item
                    handed += 1
            finally:
                if handed < len(items) and not self._kept_by_broker():
                    # The pipeline stopped taking readings mid-poll; with acks after storing,
                    # the broker sends these messages again, so nothing is dropped.
                    left = items[handed + 1 :]  # the one at the yield was handed over
                    self.dropped += sum(len(i) if isinstance(i, RawBatch) else 1 for i in left)

    def health(self) -> ConnectorHealth:
        status = self.session.status if self._open else ConnectorStatus.STOPPED
        return ConnectorHealth(
            name=self.name,
            kind=self.kind,
            status=status,
            samples=self.samples,
            dropped=self.dropped,
            last_error=self.session.last_error,
        )


def _confirmer(session: Session | MsubSession, messages: list[Message]) -> Callable[[], None]:
    def confirm() -> None:
        session.confirm(messages)

    return confirm


def _with_receipt(items: list[Reading], source: str, confirm: Callable[[], None]) -> list[Reading]:
    """Make the last reading of a poll acknowledge the poll's messages once it is durable.

    Dead letters come before the batch, so they are handed on before the ack too (their
    records are written by the pipeline's record stage, which the ack does not wait for).
    """
    last = items[-1] if items else None
    if isinstance(last, RawBatch):
        return [*items[:-1], dataclasses.replace(last, on_durable=confirm)]
    empty = RawBatch.of(source, [], [], [])  # no sample in this poll: carries the ack alone
    return [*items, dataclasses.replace(empty, on_durable=confirm)]

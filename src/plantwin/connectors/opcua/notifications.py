"""Publish responses -> RawBatch: one batch per OPC UA notification message.

asyncua's own Subscription turns every notification into an event object and a queue entry;
here a whole DataChangeNotification becomes one columnar RawBatch in one pass (the only
per-sample Python loop, at the protocol edge). The subscription hands each batch to a sink
and awaits it, so a slow consumer delays the next Publish request: the server then keeps the
values in its monitored-item queues (bounded by ``queue_size``) instead of this process
filling memory.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
from asyncua import ua
from asyncua.client.ua_session import UaSession
from asyncua.common.subscription import Subscription
from asyncua.ua.status_codes import StatusCodes

from plantwin.core.records import DeadLetter
from plantwin.core.samples import Quality, RawBatch

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
OVERFLOW_BIT = 0x80  # InfoBits: the server dropped values of this item before this one
_DATA_VALUE_INFO = 0x400  # InfoType "DataValue": the low bits are InfoBits
_WAITING = StatusCodes.BadWaitingForInitialData

Sink = Callable[[RawBatch | DeadLetter], Awaitable[None]]


def to_ns(dt: datetime) -> int:
    """UTC nanoseconds of an OPC UA timestamp (asyncua gives microseconds; naive means UTC)."""
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    delta = dt - EPOCH
    return ((delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds) * 1000


def quality(code: int) -> int:
    """OPC UA severity (top two bits) -> Quality bits: Good 0, Uncertain, Bad."""
    severity = code >> 30
    if severity == 0:
        return 0
    return int(Quality.UNCERTAIN) if severity == 1 else int(Quality.BAD)


@dataclass(slots=True)
class Counters:
    samples: int = 0
    dropped: int = 0  # values the server reported as lost (overflow bit)
    dead: int = 0


class BatchingSubscription(Subscription):
    """A Subscription whose client handle ``h`` stands for ``addresses[h - 1]``."""

    def __init__(
        self,
        session: UaSession,
        params: ua.CreateSubscriptionParameters,
        *,
        source: str,
        addresses: Sequence[str],
        sink: Sink,
        counters: Counters,
        now_ns: Callable[[], int],
    ) -> None:
        # A handler object selects asyncua's callback mode; publish_callback below replaces
        # its dispatch, so the handler is never called.
        super().__init__(session, params, handler=_Unused())
        self._source = source
        self._addresses = list(addresses)
        self._sink = sink
        self._counters = counters
        self._now_ns = now_ns

    async def publish_callback(self, publish_result: ua.PublishResult) -> None:
        self.last_publish_at = time.monotonic()
        message = publish_result.NotificationMessage
        if not message.NotificationData:
            return  # keep-alive
        self.last_sequence_number = int(message.SequenceNumber)
        for data in message.NotificationData:
            if isinstance(data, ua.DataChangeNotification) and data.MonitoredItems:
                batch, dead = self._batch(data.MonitoredItems)
                for letter in dead:
                    await self._sink(letter)
                if len(batch):
                    await self._sink(batch)

    def _batch(
        self, items: list[ua.MonitoredItemNotification]
    ) -> tuple[RawBatch, list[DeadLetter]]:
        addresses = self._addresses
        n_known = len(addresses)
        addr: list[str] = []
        ts: list[int] = []
        values: list[float] = []
        status: list[int] = []
        dead: list[DeadLetter] = []
        for item in items:
            handle = item.ClientHandle
            dv = item.Value
            if not 0 < handle <= n_known or dv is None:
                continue
            address = addresses[handle - 1]
            code = dv.StatusCode.value if dv.StatusCode is not None else 0
            if code & _DATA_VALUE_INFO and code & OVERFLOW_BIT:
                self._counters.dropped += 1
            stamp = dv.SourceTimestamp or dv.ServerTimestamp
            when = to_ns(stamp) if stamp is not None else self._now_ns()
            raw = dv.Value.Value if dv.Value is not None else None
            if raw is None and code == _WAITING:
                continue  # the server has no value yet: nothing to record
            if isinstance(raw, bool | int | float):
                addr.append(address)
                ts.append(when)
                values.append(float(raw))
                status.append(quality(code))
            else:
                dead.append(self._dead(address, when, code, raw))
        self._counters.samples += len(addr)
        self._counters.dead += len(dead)
        order = np.argsort(np.asarray(ts, np.int64), kind="stable")  # time order across items
        batch = RawBatch.of(
            self._source,
            [addr[i] for i in order],
            np.asarray(ts, np.int64)[order],
            np.asarray(values, np.float64)[order],
            np.asarray(status, np.uint8)[order],
        )
        return batch, dead

    def _dead(self, address: str, when: int, code: int, raw: object) -> DeadLetter:
        name = ua.StatusCode(ua.UInt32(code)).name
        if raw is None:
            reason = f"OPC UA value without a value (status {name})"
        else:
            reason = f"OPC UA value of type {type(raw).__name__} is not a number (status {name})"
        return DeadLetter(
            received=self._now_ns(),
            source=self._source,
            reason=reason,
            raw=repr(raw).encode()[:1024],
            location=f"{address} @ {when}",
        )


class _Unused:
    def datachange_notification(self, node: object, val: object, data: object) -> None:
        """Never called: BatchingSubscription.publish_callback does not dispatch."""

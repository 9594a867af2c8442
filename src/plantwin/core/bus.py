"""The bus seam: topics that fan messages out to every subscriber, with backpressure."""

from __future__ import annotations

from collections.abc import AsyncIterator
from enum import StrEnum
from types import TracebackType
from typing import Protocol, Self

from plantwin.core.records import AlarmEvent, CommandEvent, DeadLetter, Event, StateChange
from plantwin.core.samples import SampleBatch

Message = SampleBatch | StateChange | Event | DeadLetter | AlarmEvent | CommandEvent


class Topic(StrEnum):
    SAMPLES = "samples"  # ingested samples
    DERIVED = "derived"  # samples computed by the twin (derived signals)
    RECORDS = "records"  # state changes, events, dead letters, alarm events


class Subscription(Protocol):
    topic: Topic

    def __aiter__(self) -> AsyncIterator[Message]: ...

    def drain_nowait(self, limit: int) -> list[Message]:
        """Up to ``limit`` messages already waiting, without waiting for more.

        A reader that falls behind takes its backlog in one go (e.g. to process many small
        batches as one); a reader that keeps up gets an empty list.
        """
        ...

    async def close(self) -> None: ...


class Bus(Protocol):
    async def publish(self, topic: Topic, message: Message) -> None:
        """Deliver to every current subscriber of ``topic``; waits while one is full."""
        ...

    def subscribe(self, topic: Topic, *, maxsize: int = 256) -> Subscription:
        """A new subscription that sees messages published from now on."""
        ...

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

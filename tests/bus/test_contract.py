"""Contract every bus implementation passes: fan-out, order, backpressure, draining close."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from plantwin.bus.memory import MemoryBus
from plantwin.core.bus import Bus, Message, Subscription, Topic
from plantwin.core.errors import BusError
from plantwin.core.records import Event, EventKind


@pytest.fixture(params=["memory"])
async def bus(request: pytest.FixtureRequest) -> AsyncIterator[Bus]:
    assert request.param == "memory"
    async with MemoryBus() as opened:
        yield opened


def _event(i: int) -> Event:
    return Event(ts=i, twin="t", kind=EventKind.NOTE, message=str(i))


async def _collect(sub: Subscription) -> list[Message]:
    return [m async for m in sub]


async def test_every_subscriber_gets_every_message_in_order(bus: Bus) -> None:
    subs = [bus.subscribe(Topic.RECORDS), bus.subscribe(Topic.RECORDS)]
    other = bus.subscribe(Topic.SAMPLES)
    readers = [asyncio.create_task(_collect(s)) for s in (*subs, other)]
    for i in range(50):
        await bus.publish(Topic.RECORDS, _event(i))
    for sub in (*subs, other):
        await sub.close()
    got = await asyncio.gather(*readers)
    assert [[m.ts for m in g if isinstance(m, Event)] for g in got] == [list(range(50))] * 2 + [[]]


async def test_publish_waits_for_a_full_subscriber(bus: Bus) -> None:
    sub = bus.subscribe(Topic.RECORDS, maxsize=2)
    await bus.publish(Topic.RECORDS, _event(1))
    await bus.publish(Topic.RECORDS, _event(2))
    blocked = asyncio.create_task(bus.publish(Topic.RECORDS, _event(3)))
    await asyncio.sleep(0.01)
    assert not blocked.done()  # backpressure: the third waits for the reader
    reader = aiter(sub)
    first = await anext(reader)
    await asyncio.wait_for(blocked, 1.0)
    assert isinstance(first, Event)
    assert first.ts == 1


async def test_close_delivers_what_was_published_before_it(bus: Bus) -> None:
    sub = bus.subscribe(Topic.RECORDS, maxsize=10)
    for i in range(5):
        await bus.publish(Topic.RECORDS, _event(i))
    await sub.close()
    await bus.publish(Topic.RECORDS, _event(99))  # after close: not delivered
    got = await _collect(sub)
    assert [m.ts for m in got if isinstance(m, Event)] == [0, 1, 2, 3, 4]


async def test_publishing_on_a_closed_bus_is_an_error() -> None:
    bus = MemoryBus()
    with pytest.raises(BusError, match="not open"):
        await bus.publish(Topic.RECORDS, _event(1))


async def test_drain_nowait_takes_the_backlog_in_order_without_waiting(bus: Bus) -> None:
    sub = bus.subscribe(Topic.RECORDS, maxsize=10)
    assert sub.drain_nowait(5) == []  # nothing waiting: returns at once
    for i in range(6):
        await bus.publish(Topic.RECORDS, _event(i))
    reader = aiter(sub)
    first = await anext(reader)
    backlog = sub.drain_nowait(3)
    assert [m.ts for m in (first, *backlog) if isinstance(m, Event)] == [0, 1, 2, 3]
    await sub.close()
    rest = sub.drain_nowait(10) + [m async for m in reader]
    assert [m.ts for m in rest if isinstance(m, Event)] == [4, 5]  # nothing lost or doubled

"""DemoPlant as a connector: lifecycle, pacing by the clock, writes, health."""

from __future__ import annotations

import time

import numpy as np
import pytest

from plantwin.core.clock import ManualClock, ScaledClock
from plantwin.core.connector import Connector, ConnectorStatus
from plantwin.core.errors import ConnectorError
from plantwin.core.records import DeadLetter
from plantwin.core.samples import RawBatch
from plantwin.model.plant import Plant
from plantwin.simulation.demo_plant import DemoLine, DemoPlant
from tests.simulation.support import START, Readings, S


def only_batches(items: list[RawBatch | DeadLetter]) -> list[RawBatch]:
    out = []
    for item in items:
        assert isinstance(item, RawBatch)
        out.append(item)
    return out


async def test_manual_clock_paces_the_readings(demo_plant_model: Plant) -> None:
    clock = ManualClock(START)
    demo = DemoPlant(plant=demo_plant_model, clock=clock, start_ns=START, poll_s=60)
    connector: Connector = demo
    got: list[RawBatch | DeadLetter] = []
    assert demo.last_reading_ns == START  # nothing produced yet
    async with demo:
        assert demo.health().status is ConnectorStatus.CONNECTED
        async for item in connector.readings():
            got.append(item)
            assert isinstance(item, RawBatch)
            assert item.ts.max() <= clock.now_ns()
            assert demo.last_reading_ns == item.ts.max() == demo.line.now_ns
            if clock.now_ns() >= START + 600 * S:
                break
    assert demo.health().status is ConnectorStatus.STOPPED
    batches = only_batches(got)
    assert len(batches) == 10  # one per minute of plant time
    assert demo.health().samples == sum(len(b) for b in batches)
    offline = DemoLine(plant=demo_plant_model, seed=7, start_ns=START)
    assert Readings.of(batches).same_as(Readings.of([offline.advance_to(demo.line.now_ns)]))


async def test_scaled_clock_gives_the_same_plant(demo_plant_model: Plant) -> None:
    clock = ScaledClock(start_ns=START, speed=3600.0)
    demo = DemoPlant(plant=demo_plant_model, clock=clock, start_ns=START, poll_s=60)
    got: list[RawBatch | DeadLetter] = []
    wall0 = time.monotonic()
    async with demo:
        async for item in demo.readings():
            got.append(item)
            if time.monotonic() - wall0 > 0.3:
                break
    batches = only_batches(got)
    assert len(batches) >= 2
    ts = np.concatenate([b.ts for b in batches])
    assert (np.diff(ts) >= 0).all()
    assert ts[-1] <= clock.now_ns()
    offline = DemoLine(plant=demo_plant_model, seed=7, start_ns=START)
    assert Readings.of(batches).same_as(Readings.of([offline.advance_to(demo.line.now_ns)]))


async def test_large_catch_up_is_split_into_batches(demo_plant_model: Plant) -> None:
    clock = ManualClock(START + 3600 * S)  # an hour behind the clock, e.g. after a restart
    demo = DemoPlant(
        plant=demo_plant_model, clock=clock, start_ns=START, poll_s=60, max_batch_s=600
    )
    async with demo:
        stream = demo.readings()
        spans = []
        for _ in range(6):
            batch = await anext(stream)
            assert isinstance(batch, RawBatch)
            spans.append(int(batch.ts.max() - batch.ts.min()))
    assert max(spans) < 600 * S
    assert demo.line.now_ns == START + 3600 * S


async def test_writes_reach_the_machine(demo_plant_model: Plant) -> None:
    clock = ManualClock(START)
    demo = DemoPlant(plant=demo_plant_model, clock=clock, start_ns=START, poll_s=30)
    feeds: list[float] = []
    async with demo:
        await demo.write("L1/lathe1/cmd/set_feed_override", 80.0)
        async for item in demo.readings():
            assert isinstance(item, RawBatch)
            feeds += [v for a, v in zip(item.address, item.value, strict=True) if "feed" in a]
            if clock.now_ns() >= START + 120 * S:
                break
        with pytest.raises(ConnectorError, match="L1/lathe1/cmd/explode"):
            await demo.write("L1/lathe1/cmd/explode", 1.0)
    assert 80.0 in feeds
    assert 100.0 in feeds
    assert demo.truth.commands[0].address == "L1/lathe1/cmd/set_feed_override"
    last_error = demo.health().last_error
    assert last_error is not None
    assert "explode" in last_error


async def test_readings_need_an_open_connector(demo_plant_model: Plant) -> None:
    demo = DemoPlant(plant=demo_plant_model, clock=ManualClock(START), start_ns=START)
    with pytest.raises(ConnectorError, match="not open"):
        demo.readings()


def test_snapshot_and_restore_through_the_connector(demo_plant_model: Plant) -> None:
    a = DemoPlant(plant=demo_plant_model, clock=ManualClock(START), start_ns=START)
    a.line.advance(600)
    b = DemoPlant(plant=demo_plant_model, clock=ManualClock(START), start_ns=START)
    b.restore(a.snapshot())
    assert b.line.now_ns == START + 600 * S
    assert Readings.of([a.line.advance(60)]).same_as(Readings.of([b.line.advance(60)]))
    with pytest.raises(ConnectorError, match="snapshot"):
        b.restore(b"\x00garbage")


def test_snapshot_without_truth_continues_identically(demo_plant_model: Plant) -> None:
    # what the runtime saves every few seconds: no ground truth, so it does not grow
    hours = 6 * 3600  # long enough for tool changes and a failure
    a = DemoPlant(plant=demo_plant_model, clock=ManualClock(START), start_ns=START)
    a.line.advance(hours)
    truth = a.truth
    assert truth.tools
    assert truth.failures
    assert len(truth.parts) > 200
    full, lean = a.snapshot(), a.snapshot(include_truth=False)
    assert len(lean) < len(full) / 5
    tallies = {k: list(v) for k, v in truth.state_s.items()}
    tools_before = len(truth.tools)

    b = DemoPlant(plant=demo_plant_model, clock=ManualClock(START), start_ns=START)
    b.restore(lean)
    assert b.line.now_ns == a.line.now_ns == b.last_reading_ns == START + hours * S
    assert (b.truth.parts, b.truth.tools, b.truth.failures) == ([], [], [])
    assert b.truth.state_s == tallies

    after_a = Readings.of(list(a.line.run(hours / 2)))
    after_b = Readings.of(list(b.line.run(hours / 2)))
    assert len(after_a.ts) > 300_000
    assert after_a.same_as(after_b)
    assert b.truth.state_s == a.truth.state_s
    assert b.truth.parts == [p for p in a.truth.parts if p.ts_ns > START + hours * S]
    assert b.truth.tools == a.truth.tools[tools_before:]
    assert b.truth.tools


def test_constructor_checks_its_arguments(demo_plant_model: Plant) -> None:
    with pytest.raises(ValueError, match="poll_s"):
        DemoPlant(plant=demo_plant_model, clock=ManualClock(), start_ns=START, poll_s=0)


@pytest.mark.slow
async def test_sixty_times_real_time_costs_little_cpu(demo_plant_model: Plant) -> None:
    clock = ScaledClock(start_ns=START, speed=60.0)
    demo = DemoPlant(plant=demo_plant_model, clock=clock, start_ns=START)
    samples = 0
    wall0, cpu0 = time.monotonic(), time.process_time()
    async with demo:
        async for item in demo.readings():
            assert isinstance(item, RawBatch)
            samples += len(item)
            if time.monotonic() - wall0 > 3.0:
                break
    share = (time.process_time() - cpu0) / (time.monotonic() - wall0)
    assert samples > 5000  # ~180 s of plant time
    assert share < 0.10

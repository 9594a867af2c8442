"""The whole data path with the demo plant as connector, on virtual time."""

from __future__ import annotations

import asyncio
from pathlib import Path

import numpy as np

from plantwin.bus.memory import MemoryBus
from plantwin.connectors.http import HttpConnector
from plantwin.core import DeadLetter, ManualClock, RawBatch, StateChange
from plantwin.core.store import HistoryQuery, RecordQuery
from plantwin.ingest import Ingestor, decode_json_lines
from plantwin.model.catalog import SignalCatalog
from plantwin.model.plant import Plant
from plantwin.runtime.pipeline import Pipeline
from plantwin.simulation.demo_plant.connector import DemoPlant
from plantwin.store import DuckDBStore
from plantwin.twin import TwinState
from tests.helpers import T0, S

HOURS = 3


async def test_demo_plant_through_the_pipeline_into_the_store(
    example_plant: Plant, tmp_path: Path
) -> None:
    clock = ManualClock(T0)
    async with DuckDBStore(path=tmp_path / "p.duckdb") as store, MemoryBus() as bus:
        ids = await store.register_signals(list(example_plant.signals))
        catalog = SignalCatalog(example_plant, ids)
        twin = TwinState(example_plant, catalog)
        demo = DemoPlant(plant=example_plant, clock=clock, seed=11, start_ns=T0, poll_s=60)
        async with demo:
            pipeline = Pipeline(
                ingestor=Ingestor(catalog, clock),
                twin=twin,
                store=store,
                bus=bus,
                connectors=[demo],
            )
            stop = asyncio.Event()
            runner = asyncio.create_task(pipeline.run(stop))
            while demo.line.now_ns < T0 + HOURS * 3600 * S:  # noqa: ASYNC110 - virtual time
                await asyncio.sleep(0)
            stop.set()
            await runner

        stats = store.stats()
        assert stats.pending_samples == 0
        assert stats.committed_samples == pipeline.stats.samples + pipeline.stats.derived
        assert pipeline.stats.dead_letters == 0
        # The live twin and the committed history agree on every signal's newest sample.
        latest = await store.latest()
        # (health signals come from the health stage, after a day of history, and RUL and
        # prediction signals from registered models, none here: not here)
        predicted = {k for s in example_plant.signals.values() if s.rul for k in s.rul.outputs}
        predicted |= {
            s.predict.version
            for s in example_plant.signals.values()
            if s.predict and s.predict.version
        }
        scored = [
            s
            for s in example_plant.signals.values()
            if s.health is None and s.rul is None and s.predict is None and s.key not in predicted
        ]
        assert len(latest.signal) == len(scored)
        for sid, ts, value in zip(latest.signal, latest.ts, latest.value, strict=True):
            assert twin.latest.ts[sid] == ts
            assert twin.latest.value[sid] == value
        # Every state change the twin saw is in the store, including line roll-ups.
        changes = await store.records(RecordQuery(kind=StateChange, limit=100_000))
        assert len(changes) == pipeline.stats.state_changes > 0
        assert {c.twin for c in changes if isinstance(c, StateChange)} >= {
            "changwon.L1",
            "changwon.L1.mill1",
            "changwon.L1.cmm1",
        }
        # Hourly buckets of spindle vibration cover the run.
        vib = catalog.id("changwon.L1.mill1.spindle/vibration")
        hist = await store.history(
            HistoryQuery(signal=vib, start=T0, end=T0 + HOURS * 3600 * S, every=3600 * S)
        )
        assert len(hist) == HOURS
        assert np.all(hist.count > 1000)  # 1 Hz while the spindle data flows
        assert np.all((hist.mean > 0.1) & (hist.mean < 7.1))


async def test_bad_readings_become_dead_letters_and_the_rest_lands(
    example_plant: Plant, tmp_path: Path
) -> None:
    clock = ManualClock(T0 + 60 * S)
    decoded, malformed = decode_json_lines(
        "demo",
        b'{"address": "L1/mill1/power", "ts": 1800000000000000000, "value": 4.5}\n{oops\n',
        received=clock.now_ns(),
    )
    raw = RawBatch.of(
        "demo",
        ["L1/mill1/energy", "L1/mill9/power", "L1/mill1/energy"],
        [T0, T0, T0 + S],
        [1, 2, 3],
    )
    # The http connector hands over exactly what is offered to it, in order: a real connector
    # with an in-memory source, which is what this test needs (the replay connector would
    # screen the unbound address itself, before ingest sees it).
    connector = HttpConnector(name="demo")
    async with DuckDBStore(path=tmp_path / "d.duckdb") as store, MemoryBus() as bus:
        catalog = SignalCatalog(
            example_plant, await store.register_signals(list(example_plant.signals))
        )
        pipeline = Pipeline(
            ingestor=Ingestor(catalog, clock),
            twin=TwinState(example_plant, catalog),
            store=store,
            bus=bus,
            connectors=[connector],
        )
        stop = asyncio.Event()
        async with connector:
            assert connector.offer([decoded, *malformed, raw])
            runner = asyncio.create_task(pipeline.run(stop))
            await connector.close_intake()  # returns once the pipeline took everything
            stop.set()
            await runner
        dead = await store.records(RecordQuery(kind=DeadLetter))
        energy = await store.history(
            HistoryQuery(signal=catalog.id("changwon.L1.mill1/energy"), start=T0, end=T0 + 2 * S)
        )
        power = await store.history(
            HistoryQuery(signal=catalog.id("changwon.L1.mill1/power"), start=T0, end=T0 + S)
        )
    reasons = sorted(
        (d.location, d.reason.split(":")[0]) for d in dead if isinstance(d, DeadLetter)
    )
    assert reasons == [
        ("L1/mill9/power", "address 'L1/mill9/power' is not bound to a signal of 'demo'"),
        ("line 2", "not valid JSON"),
    ]
    raw_bytes = {d.location: d.raw for d in dead if isinstance(d, DeadLetter)}
    assert raw_bytes["line 2"] == b"{oops"
    assert b'"address": "L1/mill9/power"' in raw_bytes["L1/mill9/power"]
    assert energy.last.tolist() == [1.0, 3.0]
    assert power.last.tolist() == [4.5]


async def test_stopping_under_backpressure_loses_no_reading(
    example_plant: Plant, tmp_path: Path
) -> None:
    clock = ManualClock(T0)
    async with DuckDBStore(path=tmp_path / "b.duckdb") as store, MemoryBus() as bus:
        catalog = SignalCatalog(
            example_plant, await store.register_signals(list(example_plant.signals))
        )
        demo = DemoPlant(plant=example_plant, clock=clock, seed=5, start_ns=T0, poll_s=10)
        async with demo:
            pipeline = Pipeline(
                ingestor=Ingestor(catalog, clock),
                twin=TwinState(example_plant, catalog),
                store=store,
                bus=bus,
                connectors=[demo],
                inbox_size=1,  # the pump waits on a full inbox most of the time
            )
            stop = asyncio.Event()
            runner = asyncio.create_task(pipeline.run(stop))
            while pipeline.stats.batches < 50:  # noqa: ASYNC110 - virtual time
                await asyncio.sleep(0)
            stop.set()
            await runner
            yielded = demo.health().samples
        assert pipeline.ingestor.stats.received == yielded
        assert store.stats().committed_samples == pipeline.stats.samples + pipeline.stats.derived
        newest = int((await store.latest()).ts.max())
        assert newest == demo.line.now_ns  # the snapshot time matches what is stored

"""The whole data path with the demo plant as connector, on virtual time."""

from __future__ import annotations

import asyncio
from pathlib import Path

import numpy as np

from plantwin.bus.memory import MemoryBus
from plantwin.core import ManualClock, StateChange
from plantwin.core.store import HistoryQuery, RecordQuery
from plantwin.ingest import Ingestor
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
        assert len(latest.signal) == len(example_plant.signals)
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

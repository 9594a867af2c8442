"""RUL signals through the pipeline: the registered model's newest version predicts every few
minutes of plant time; RUL, bounds and the version land in the twin and the store together."""

from __future__ import annotations

import asyncio
from pathlib import Path

import numpy as np

from plantwin.analytics.registry import ModelRegistry
from plantwin.analytics.rul.condition import FEATURES
from plantwin.analytics.rul.condition_model import ConditionRulSettings, fit_condition_rul
from plantwin.bus.memory import MemoryBus
from plantwin.core import ManualClock
from plantwin.core.records import Event
from plantwin.core.store import HistoryQuery, RecordQuery
from plantwin.ingest import Ingestor
from plantwin.model.catalog import SignalCatalog
from plantwin.model.loader import load_plant
from plantwin.processing.processor import RuleProcessor
from plantwin.runtime.pipeline import Pipeline
from plantwin.runtime.rul import rul_stage
from plantwin.simulation.demo_plant.connector import DemoPlant
from plantwin.store.memory import MemoryStore
from plantwin.twin import TwinState
from tests.helpers import T0, S

DEMO = Path(__file__).parents[2] / "src/plantwin/simulation/demo_plant/machining-line.yaml"
SPINDLE = "changwon.L1.mill1.spindle"


def small_model(seed: int) -> object:
    """A model on made-up rows: this test is about the plumbing, not the accuracy."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(400, len(FEATURES)))
    y = 24 + 10 * x[:, 0] + rng.normal(size=400)
    return fit_condition_rul(x, y, settings=ConditionRulSettings(trees=10, min_rows=20))


async def test_rul_signals_come_from_the_newest_version_and_name_it() -> None:
    plant = load_plant(DEMO)
    clock = ManualClock(T0)
    async with MemoryStore() as store, MemoryBus() as bus:
        catalog = SignalCatalog(plant, await store.register_signals(list(plant.signals)))
        waiting = await rul_stage(catalog, store, 0)  # nothing registered yet: no predictions
        assert waiting is not None
        assert waiting.versions() == {"spindle-bearing-rul": 0}
        registry = ModelRegistry(store)
        for seed in (1, 2):
            await registry.register(
                "spindle-bearing-rul", small_model(seed), kind="test", data_start=0, data_end=1
            )
        stage = await rul_stage(catalog, store, 0)
        assert stage is not None
        twin = TwinState(plant, catalog)
        demo = DemoPlant(plant=plant, clock=clock, seed=5, start_ns=T0, poll_s=60)
        async with demo:
            pipeline = Pipeline(
                ingestor=Ingestor(catalog, clock), twin=twin, store=store, bus=bus,
                connectors=[demo], processor=RuleProcessor(twin, catalog, start_ns=T0),
                clock=clock, health=stage,
            )  # fmt: skip
            stop = asyncio.Event()
            runner = asyncio.create_task(pipeline.run(stop))
            while demo.line.now_ns < T0 + 40 * 60 * S:  # noqa: ASYNC110 - virtual time
                await asyncio.sleep(0)
            stop.set()
            await runner

        def query(name: str) -> HistoryQuery:
            return HistoryQuery(
                signal=catalog.id(f"{SPINDLE}/{name}"), start=T0, end=T0 + 3 * 3600 * S
            )

        rul = await store.history(query("rul"))
        low, high = await store.history(query("rul_low")), await store.history(query("rul_high"))
        version = await store.history(query("rul_model"))
        assert len(rul) >= 5  # every 5 min of plant time, not every sample
        assert np.all(np.diff(rul.ts) >= 5 * 60 * S - 60 * S)
        np.testing.assert_array_equal(rul.ts, version.ts)
        np.testing.assert_array_equal(rul.ts, low.ts)
        assert np.all(low.last <= rul.last)
        assert np.all(rul.last <= high.last)
        # which version produced the RUL at time t: the version signal at t
        t = int(rul.ts[2])
        at_t = await store.history(
            HistoryQuery(signal=catalog.id(f"{SPINDLE}/rul_model"), start=t, end=t + 1)
        )
        assert at_t.last.tolist() == [2.0]
        assert twin.latest.ts[catalog.id(f"{SPINDLE}/rul")] == rul.ts.max()
        events = await store.records(RecordQuery(kind=Event, twin=SPINDLE, limit=100))
        notes = [e for e in events if isinstance(e, Event) and "spindle-bearing-rul@2" in e.message]
        assert len(notes) == 1
        assert notes[0].data == {"model": "spindle-bearing-rul", "version": 2}

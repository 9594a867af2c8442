"""The health stage in the pipeline: health samples in the twin and the store, a rule on
health raising its alarm, explanation events stored."""

from __future__ import annotations

import asyncio
from pathlib import Path

import numpy as np

from plantwin.analytics.anomaly import Adaptive, Smoothed
from plantwin.analytics.anomaly.online import HealthMonitors
from plantwin.bus.memory import MemoryBus
from plantwin.core import ManualClock
from plantwin.core.records import AlarmEvent
from plantwin.core.samples import SampleBatch
from plantwin.core.store import HistoryQuery, RecordQuery
from plantwin.ingest import Ingestor
from plantwin.model.catalog import SignalCatalog
from plantwin.model.loader import parse_plant
from plantwin.processing.processor import RuleProcessor
from plantwin.runtime.health import health_stage
from plantwin.runtime.pipeline import Pipeline
from plantwin.simulation.demo_plant.connector import DemoPlant
from plantwin.store.memory import MemoryStore
from plantwin.twin import TwinState
from tests.helpers import T0, S

DEMO = Path(__file__).parents[2] / "src/plantwin/simulation/demo_plant/machining-line.yaml"


async def test_health_is_scored_stored_and_alarmed_through_the_pipeline() -> None:
    # an hour's healthy period, and a health rule every score trips (below 100.5)
    text = DEMO.read_text(encoding="utf-8").replace("fit: 24 h", "fit: 1 h")
    plant = parse_plant(text.replace("below: 50\n", "below: 100.5\n"), "demo.yaml")
    clock = ManualClock(T0)
    async with MemoryStore() as store, MemoryBus() as bus:
        catalog = SignalCatalog(plant, await store.register_signals(list(plant.signals)))
        twin = TwinState(plant, catalog)
        demo = DemoPlant(plant=plant, clock=clock, seed=5, start_ns=T0, poll_s=60)
        async with demo:
            pipeline = Pipeline(
                ingestor=Ingestor(catalog, clock),
                twin=twin,
                store=store,
                bus=bus,
                connectors=[demo],
                processor=RuleProcessor(twin, catalog, start_ns=T0),
                clock=clock,
                health=HealthMonitors(catalog),
            )
            stop = asyncio.Event()
            runner = asyncio.create_task(pipeline.run(stop))
            while demo.line.now_ns < T0 + 90 * 60 * S:  # noqa: ASYNC110 - virtual time
                await asyncio.sleep(0)
            stop.set()
            await runner
        mill = "changwon.L1.mill1"
        sid = catalog.id(f"{mill}/health")
        history = await store.history(HistoryQuery(signal=sid, start=T0, end=T0 + 2 * 3600 * S))
        assert len(history) > 100  # every 10 s after the first hour
        assert history.ts.min() >= T0 + 3600 * S
        assert twin.latest.ts[sid] == history.ts.max()  # the twin holds the newest score
        assert 0.0 <= history.last.min() <= history.last.max() <= 100.0
        parts = await store.history(
            HistoryQuery(signal=catalog.id(f"{mill}/tool_health"), start=T0, end=T0 + 7200 * S)
        )
        assert len(parts) == len(history)
        alarms = await store.records(RecordQuery(kind=AlarmEvent, limit=10_000))
        raised = [
            a
            for a in alarms
            if isinstance(a, AlarmEvent) and a.alarm == f"{mill}:health_low" and a.active
        ]
        assert raised  # the rule on the health signal fired


async def test_after_a_restart_health_resumes_at_the_live_data_not_from_the_fit() -> None:
    """Warmed from three hours of history (fit: 1 h), the first live batch is scored into
    rows of its own time, not into a row per grid time since the end of the healthy period
    filled with values held from back then."""
    plant = parse_plant(DEMO.read_text(encoding="utf-8").replace("fit: 24 h", "fit: 1 h"), "d")
    clock = ManualClock(T0)
    async with MemoryStore() as store, MemoryBus() as bus:
        catalog = SignalCatalog(plant, await store.register_signals(list(plant.signals)))
        twin = TwinState(plant, catalog)
        demo = DemoPlant(plant=plant, clock=clock, seed=5, start_ns=T0, poll_s=60)
        async with demo:
            pipeline = Pipeline(
                ingestor=Ingestor(catalog, clock),
                twin=twin,
                store=store,
                bus=bus,
                connectors=[demo],
                clock=clock,
            )
            stop = asyncio.Event()
            runner = asyncio.create_task(pipeline.run(stop))
            while demo.line.now_ns < T0 + 3 * 3600 * S:  # noqa: ASYNC110 - virtual time
                await asyncio.sleep(0)
            stop.set()
            await runner
        latest = await store.latest()
        newest = int(latest.ts.max())
        stage = await health_stage(catalog, store, newest)
        assert isinstance(stage, HealthMonitors)
        monitor = next(m for m in stage.monitors if m.key == "changwon.L1.mill1/health")
        assert monitor.fitted
        # the next thirty seconds of live readings: every input once a second, as it last was
        inputs = [int(i) for i in monitor.inputs]
        values = {int(s): float(v) for s, v in zip(latest.signal, latest.value, strict=True)}
        ts = [newest + k * S for k in range(1, 31)]
        live = SampleBatch.of(
            [s for s in sorted(inputs) for _ in ts],
            [t for _ in inputs for t in ts],
            [values[s] for s in sorted(inputs) for _ in ts],
        )
        scored, _ = stage.process(live, SampleBatch.empty())
        mine = scored.ts[scored.signal == monitor.target]
        assert len(mine) > 0
        assert mine.min() > newest - monitor.every_ns  # no rows back over the history
        assert len(mine) <= 4


async def test_after_a_restart_a_smoothed_detector_goes_on_from_the_recent_rows() -> None:
    """The EWMA of a restarted ``mewma`` is that of the rows just before the restart, as
    in the twin that kept running, not the one at the end of the healthy period."""
    text = DEMO.read_text(encoding="utf-8").replace("fit: 24 h", "fit: 1 h")
    plant = parse_plant(text.replace("detector: pca\n", "detector: mewma\n", 1), "d")
    clock = ManualClock(T0)
    async with MemoryStore() as store, MemoryBus() as bus:
        catalog = SignalCatalog(plant, await store.register_signals(list(plant.signals)))
        running = HealthMonitors(catalog)
        demo = DemoPlant(plant=plant, clock=clock, seed=5, start_ns=T0, poll_s=60)
        async with demo:
            pipeline = Pipeline(
                ingestor=Ingestor(catalog, clock),
                twin=TwinState(plant, catalog),
                store=store,
                bus=bus,
                connectors=[demo],
                clock=clock,
                health=running,
            )
            stop = asyncio.Event()
            runner = asyncio.create_task(pipeline.run(stop))
            while demo.line.now_ns < T0 + 2 * 3600 * S:  # noqa: ASYNC110 - virtual time
                await asyncio.sleep(0)
            stop.set()
            await runner
        newest = int((await store.latest()).ts.max())
        restarted = await health_stage(catalog, store, newest)
        assert isinstance(restarted, HealthMonitors)
        key = "changwon.L1.mill1/health"
        kept, fresh = (next(m for m in h.monitors if m.key == key) for h in (running, restarted))
        assert isinstance(kept.detector, Adaptive)
        assert isinstance(fresh.detector, Adaptive)
        assert isinstance(kept.detector.inner, Smoothed)
        assert isinstance(fresh.detector.inner, Smoothed)
        gap = np.abs(kept.detector.inner.state - fresh.detector.inner.state) / kept.detector._std
        assert gap.max() < 0.05  # healthy standard deviations


async def test_a_restart_just_after_the_fit_completes_starts() -> None:
    """History ending less than a scoring period after the fit completed: there is nothing
    after the healthy period to prime with (the history query once had an empty range and
    the restart failed, every time, as no new data could come)."""
    from tests.analytics.test_online_health import NS, PLANT, START, stream  # noqa: PLC0415

    plant = parse_plant(PLANT, "pumps.yaml")
    async with MemoryStore() as store:
        catalog = SignalCatalog(plant, await store.register_signals(list(plant.signals)))
        samples = stream(catalog, 2.01)  # fit: 2 h, every: 5 s
        history = samples.take(samples.ts <= START + 7202 * NS)
        await store.append(history)
        stage = await health_stage(catalog, store, int(history.ts.max()))
        assert isinstance(stage, HealthMonitors)
        assert stage.monitors[0].fitted

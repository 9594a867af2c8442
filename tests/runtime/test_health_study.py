"""The demo line's health alarms against its ground truth (a seeded week), and the health
stage warmed from the store."""

from __future__ import annotations

import numpy as np
import pytest

from plantwin.core.clock import ManualClock
from plantwin.core.samples import SampleBatch
from plantwin.ingest import Ingestor
from plantwin.model.catalog import SignalCatalog
from plantwin.model.plant import Plant
from plantwin.runtime.health import health_stage
from plantwin.runtime.health_study import run_study, warning_report
from plantwin.simulation.demo_plant import DemoLine
from plantwin.store.memory import MemoryStore
from plantwin.twin import TwinState

START = 1_767_225_600_000_000_000  # 2026-01-01 00:00 UTC
NS = 1_000_000_000


@pytest.mark.slow
def test_bearing_wear_raises_the_health_alarm_hours_before_failure(example_plant: Plant) -> None:
    run = run_study(example_plant, seed=7, days=7.0, start_ns=START)
    report = warning_report(example_plant, run, fit_h=24.0)
    leads = report.leads_h("bearing")
    assert len(leads) == 2  # mill1 at 61 h, lathe1 at 163 h in this seed
    assert report.missed("bearing") == 0
    assert min(leads) > 4.0  # figures in docs/analytics.md
    assert report.false_alarms_per_day < 1.5
    explained = [e for e in run.events if "spindle.vibration" in e.message]
    assert explained  # the explanation names the bearing's signal


async def test_the_health_stage_fits_on_the_history_in_the_store(example_plant: Plant) -> None:
    async with MemoryStore() as store:
        ids = await store.register_signals(list(example_plant.signals))
        catalog = SignalCatalog(example_plant, ids)
        assert await health_stage(catalog, store, newest=0) is not None  # nothing to fit on yet
        ingestor = Ingestor(catalog, ManualClock(START), max_future_s=2 * 86_400)
        twin = TwinState(example_plant, catalog)
        line = DemoLine(plant=example_plant, seed=3, start_ns=START)
        for raw in line.run(25 * 3600, chunk_s=3600):
            batch = ingestor.process(raw).batch
            await store.append(SampleBatch.concat([batch, twin.apply(batch).derived]).canonical())
        await store.flush()
        stage = await health_stage(catalog, store, newest=line.now_ns)
        assert stage is not None
        monitors = stage.monitors  # type: ignore[attr-defined]
        assert [m.fitted for m in monitors] == [True, True]
        # the next live batch is scored at once
        raw = line.advance(60)
        batch = ingestor.process(raw).batch
        health, _ = stage.process(batch, twin.apply(batch).derived)
        assert len(health)
        assert np.median(health.value) > 50

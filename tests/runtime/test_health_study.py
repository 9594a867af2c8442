"""The demo line's health alarms against its ground truth (seeded days), and the health
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
def test_bearing_and_tool_wear_raise_health_alarms_before_failure(example_plant: Plant) -> None:
    """Three seeded days (the first one the healthy period): the mill's bearing fails at
    61 h and five lathe tools reach the wear limit (figures in docs/analytics.md)."""
    run = run_study(example_plant, seed=7, days=3.0, start_ns=START)
    machine = warning_report(example_plant, run, fit_h=24.0)
    leads = machine.leads_h("bearing")
    assert len(leads) == 1
    assert machine.missed("bearing") == 0
    assert min(leads) > 4.0
    assert machine.false_alarms_per_day < 1.5
    explained = [e for e in run.events if "spindle.vibration" in e.message]
    assert explained  # the explanation names the bearing's signal

    tools = warning_report(
        example_plant, run, fit_h=24.0, alarm="tool_health_low", join_h=0.1, kinds=("tool",)
    )
    forced = len(tools.warnings)
    assert forced >= 3
    assert tools.missed("tool") <= forced // 4  # most tools warned of
    # Before the fix no tool was warned: the last stretch from VB 0.34 mm to the forced
    # change takes 1-4 min. The tool alarm comes earlier than that, past its 2 min on-delay.
    median = tools.median_lead_h("tool")
    assert median is not None
    assert median * 60 > 4.0
    assert max(tools.leads_h("tool")) < 1.0  # a warning of this tool, not of one before it
    assert tools.false_alarms_per_day < 4.0
    print(  # the figures the docs quote, shown with -s
        f"bearing leads {[round(x, 1) for x in leads]} h; tool leads "
        f"{[round(x * 60, 1) for x in tools.leads_h('tool')]} min; false alarms per machine-day: "
        f"health_low {machine.false_alarms_per_day:.2f}, "
        f"tool_health_low {tools.false_alarms_per_day:.2f}"
    )
    explained = [e for e in run.events if "tool_wear_health" in e.message]
    assert explained  # the tool detector's own anomaly events


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
        assert [m.fitted for m in monitors] == [True, True, True, True]
        # the next live batch is scored at once
        raw = line.advance(60)
        batch = ingestor.process(raw).batch
        health, _ = stage.process(batch, twin.apply(batch).derived)
        assert len(health)
        assert np.median(health.value) > 50

"""The demo check: one simulated day of the demo line through ingest, twin and store, then
its KPIs against the simulator's own ground truth (its per-second state log)."""

from __future__ import annotations

from pathlib import Path

import pytest

from plantwin.core import ManualClock
from plantwin.core.kpis import KpiQuery, KpiRecord
from plantwin.ingest import Ingestor
from plantwin.model.catalog import SignalCatalog
from plantwin.model.loader import load_plant
from plantwin.processing.kpis import KpiEngine, KpiService, PeriodKind
from plantwin.processing.kpis.periods import range_period
from plantwin.simulation.demo_plant import DemoLine
from plantwin.store import DuckDBStore
from plantwin.twin import TwinState
from tests.simulation.support import DAY, PLANT_FILE, START, S

MACHINES = ("mill1", "lathe1", "washer1", "cmm1")
RUNNING, SETUP, DOWN, MAINT = 1, 2, 3, 4


@pytest.mark.slow
async def test_one_simulated_day_matches_the_simulators_state_log(tmp_path: Path) -> None:
    plant = load_plant(PLANT_FILE)
    line = DemoLine(plant=plant, seed=7, start_ns=START)
    async with DuckDBStore(path=tmp_path / "day.duckdb") as store:
        catalog = SignalCatalog(plant, await store.register_signals(list(plant.signals)))
        twin = TwinState(plant, catalog)
        ingest = Ingestor(catalog, ManualClock(START))
        for raw in line.run(DAY):
            rows = ingest.process(raw)
            assert not rows.dead
            update = twin.apply(rows.batch)
            await store.append(rows.batch)
            await store.append_records(update.changes)
        await store.flush()
        end = START + DAY * S
        engine = KpiEngine(plant, catalog, store)
        day = range_period(START, end)
        truth = line.truth
        report: list[str] = []
        for name in MACHINES:
            (kpi,) = await engine.compute(f"changwon.L1.{name}", [day], end)
            tally = truth.state_s[name]
            pbt = sum(tally) - tally[MAINT]  # the log counts every simulated second
            true_a = tally[RUNNING] / pbt  # ISO 22400: APT / PBT
            v = kpi.values
            assert v["availability"] == pytest.approx(true_a, abs=0.01), name
            # and "1 - downtime share": the delay time (faults) of the planned busy time
            tech = 1.0 - kpi.inputs["adet_s"] / kpi.inputs["pbt_s"]
            assert tech == pytest.approx(truth.availability(name), abs=0.01), name
            assert kpi.inputs["aust_s"] == pytest.approx(tally[SETUP], abs=60)
            report.append(_line(name, kpi, true_a))
        # parts and quality at the CMM against the inspections the simulator logged
        (cmm,) = await engine.compute("changwon.L1.cmm1", [day], end)
        good = sum(1 for p in truth.parts if p.good)
        assert cmm.inputs["gq"] == good
        assert cmm.inputs["pq"] == len(truth.parts)
        assert cmm.values["quality"] == pytest.approx(good / len(truth.parts))
        # effectiveness: PRU is each machine's nominal cycle, so E is near 1 (never above
        # by much: whole-second steps make real cycles a little longer)
        for name in MACHINES:
            (kpi,) = await engine.compute(f"changwon.L1.{name}", [day], end)
            assert 0.95 < (kpi.values["effectiveness"] or 0.0) < 1.01, name
        # shifts: the two fully simulated shifts and the day add up (time elements are additive)
        service = KpiService(engine)
        shifts = await service.query(
            "changwon.L1.mill1", PeriodKind.SHIFT, START, end, end + 3600 * S
        )
        inside = [r for r in shifts if r.start >= START and r.end <= end]
        assert [r.label for r in inside] == ["2026-01-01 B", "2026-01-01 C"]
        assert all(r.end - r.start == 8 * 3600 * S for r in inside)
        (whole,) = await engine.compute(
            "changwon.L1.mill1", [range_period(inside[0].start, inside[-1].end)], end
        )
        assert sum(r.inputs["apt_s"] for r in inside) == pytest.approx(whole.inputs["apt_s"])
        assert sum(r.inputs["pq"] for r in inside) == pytest.approx(whole.inputs["pq"])
        stored = await store.kpis(
            KpiQuery(twin="changwon.L1.mill1", period="shift", start=0, end=end)
        )
        assert [r.label for r in stored] == [
            r.label for r in shifts if r.end + 300 * S <= end + 3600 * S
        ]
        # the line: OEE = A x E x Q, and its parts are the CMM's
        (line_kpi,) = await engine.compute("changwon.L1", [day], end)
        lv = line_kpi.values
        assert lv["oee"] == pytest.approx(lv["availability"] * lv["effectiveness"] * lv["quality"])  # type: ignore[operator]
        assert line_kpi.inputs["pq"] == cmm.inputs["pq"]
        print("\n" + "\n".join(report))


def _line(name: str, kpi: KpiRecord, true_a: float) -> str:
    v = kpi.values
    return (
        f"{name:8s} A {v['availability']:.4f} (truth {true_a:.4f})  E {v['effectiveness']:.4f}"
        f"  Q {v['quality']:.4f}  OEE {v['oee']:.4f}"
    )

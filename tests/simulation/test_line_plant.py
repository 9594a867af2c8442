"""The line model built from the plant file, and calibrated from a real store's history."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from plantwin.core.records import StateChange
from plantwin.core.samples import SampleBatch
from plantwin.model.loader import load_plant
from plantwin.model.plant import Plant
from plantwin.simulation.demo_plant import DemoSettings
from plantwin.simulation.line import StartState, run_line
from plantwin.simulation.line.calibrate import calibrate, fit_weibull
from plantwin.simulation.line.distributions import FloatArray as Float
from plantwin.simulation.line.distributions import LogNormal, Weibull
from plantwin.simulation.line.plant_line import line_from_plant, shift_plan
from plantwin.store import DuckDBStore
from tests.simulation.support import PLANT_FILE
from tests.test_cli import plantwin

NS = 1_000_000_000
T0 = 1_767_225_600 * NS  # 2026-01-01T00:00:00Z


@pytest.fixture(scope="module")
def plant() -> Plant:
    return load_plant(PLANT_FILE)


def test_demo_line_has_its_stations_buffers_and_settings(plant: Plant) -> None:
    built = line_from_plant(plant, "L1", demo=DemoSettings())
    spec = built.spec
    assert [s.name for s in spec.stations] == ["mill1", "lathe1", "washer1", "cmm1"]
    assert spec.buffers == (8, 8, 8)  # the conveyors' capacity property
    mill = spec.station("mill1")
    assert mill.cycle.mean == pytest.approx(90.0)  # 9 + 72 + 9 s
    assert isinstance(mill.failures[0].between, Weibull)
    assert mill.failures[0].between.mean == pytest.approx(20 * 3600)
    assert mill.failures[0].between.shape == 1.2
    assert isinstance(mill.failures[0].repair, LogNormal)
    assert mill.setup is not None
    assert mill.setup.every_parts == 280
    assert mill.wear is not None
    assert spec.station("cmm1").scrap == pytest.approx(0.005)
    assert built.assets["mill1"] == "changwon.L1.mill1"
    sources = {(p.station, p.parameter): p.source for p in built.provenance}
    assert sources[("mill1", "failures")] == "demo settings"
    assert sources[("washer1", "cycle")] == "demo settings"


def test_plant_file_alone_gives_the_planned_cycles(plant: Plant) -> None:
    spec = line_from_plant(plant).spec
    assert [s.cycle.mean for s in spec.stations] == [90.0, 75.0, 60.0, 80.0]
    assert all(not s.failures for s in spec.stations)
    result = run_line(spec, horizon_s=86_400, warmup_s=3600, seed=1)
    # deterministic cycles, no failures: after the first part the 90 s mill paces the line
    assert result.throughput_per_h == pytest.approx(40.0, abs=0.05)
    assert result.station("mill1").utilisation == pytest.approx(1.0)
    assert result.station("washer1").utilisation == pytest.approx(60 / 90, abs=0.01)
    assert result.bottleneck == "mill1"


def test_unknown_line_is_named(plant: Plant) -> None:
    with pytest.raises(ValueError, match=r"no line 'L9'.*changwon\.L1"):
        line_from_plant(plant, "L9")


def test_around_the_clock_shifts_need_no_plan(plant: Plant) -> None:
    assert shift_plan(plant, "changwon.L1") is None


def test_weibull_fit_recovers_its_parameters() -> None:
    rng = np.random.default_rng(4)
    truth = Weibull(shape=1.5, scale=20.0)
    fitted = fit_weibull(truth.draw(rng, 2000))
    assert fitted.shape == pytest.approx(1.5, rel=0.05)
    assert fitted.scale == pytest.approx(20.0, rel=0.05)


def mill_failures(rng: np.random.Generator) -> tuple[list[StateChange], Float, int]:
    """300 Weibull(1.4, 10 h) runs of the mill with log-normal repairs as state changes;
    the times between failures and the end of the history."""
    tbf = Weibull(shape=1.4, scale=10 * 3600.0).draw(rng, 300)
    repair = LogNormal(mean=1800.0, sigma=0.5).draw(rng, 300)
    idle = rng.exponential(600.0, 300)  # idle time must not count as operating time
    twin = "changwon.L1.mill1"
    changes: list[StateChange] = []
    t = T0
    state = None
    for run_s, down_s, idle_s in zip(tbf, repair, idle, strict=True):
        half = run_s / 2  # an idle gap in the middle of each run
        for name, seconds in (
            ("running", half),
            ("idle", idle_s),
            ("running", half),
            ("down", down_s),
        ):
            changes.append(StateChange(ts=t, twin=twin, state=name, previous=state))
            state = name
            t += round(seconds * NS)
    return changes, tbf, t + 3600 * NS


async def test_calibration_from_store_history(tmp_path: Path, plant: Plant) -> None:
    """300 failures of the mill written as state changes; the fit finds the distributions."""
    rng = np.random.default_rng(12)
    changes, tbf, end = mill_failures(rng)
    twin = "changwon.L1.mill1"
    cycle_key = f"{twin}/cycle_time"
    async with DuckDBStore(path=tmp_path / "history.duckdb") as store:
        ids = await store.register_signals([cycle_key])
        cycles = LogNormal(mean=90.0, sigma=0.03).draw(rng, 500)
        ts = T0 + np.arange(500, dtype=np.int64) * 90 * NS
        await store.append(SampleBatch.of(np.full(500, ids[cycle_key]), ts, cycles))
        await store.flush()
        await store.append_records(changes)
        built = line_from_plant(plant, demo=DemoSettings())
        calibration = await calibrate(built, plant, store, start_ns=T0, end_ns=end)
    fits = {(f.station, f.parameter): f for f in calibration.fits}
    between = fits[("mill1", "time_between_failures")]
    assert isinstance(between.value, Weibull)
    assert between.n == 299  # the stretch before the first failure is censored
    assert between.value.shape == pytest.approx(1.4, rel=0.12)
    assert between.value.mean == pytest.approx(float(tbf[1:].mean()), rel=0.05)
    fix = fits[("mill1", "repair")]
    assert isinstance(fix.value, LogNormal)
    assert fix.value.mean == pytest.approx(1800.0, rel=0.1)
    assert fix.value.sigma == pytest.approx(0.5, rel=0.12)
    assert fix.n == 299  # the last repair is still open at the end of the range
    assert fix.start_ns > T0
    assert fix.end_ns <= end  # the data range is recorded
    cycle = fits[("mill1", "cycle")]
    assert cycle.n == 500
    assert isinstance(cycle.value, LogNormal)
    assert cycle.value.mean == pytest.approx(90.0, rel=0.01)
    assert cycle.value.sigma == pytest.approx(0.03, rel=0.15)
    # stations without history keep their defaults; the mill takes the fit
    applied = calibration.apply(built)
    mill = applied.spec.station("mill1")
    assert mill.failures[0].between == between.value
    assert applied.spec.station("lathe1") == built.spec.station("lathe1")
    history = [p for p in applied.provenance if p.source == "history"]
    assert {p.parameter for p in history} == {"time_between_failures", "repair", "cycle"}
    details = {p.parameter: p.detail for p in history}
    assert details["cycle"] == "500 values, 2026-01-01T00:00Z .. 2026-01-01T12:28Z"
    assert details["repair"].startswith("299 values, 2026-01-01T")


def test_a_run_from_the_live_state_starts_where_the_line_is(plant: Plant) -> None:
    spec = line_from_plant(plant).spec  # deterministic cycles, no failures
    empty = run_line(spec, horizon_s=3600, seed=1)
    live = StartState(buffers={"cmm1": 8}, down_s={"mill1": 1800.0})
    started = run_line(spec, horizon_s=3600, seed=1, start=live)
    # eight parts wait before the CMM: it works from the first second, 80 s a part
    assert started.good >= 8
    assert empty.good == 37  # the first leaves at 90 + 75 + 60 + 80 = 305 s, then one per 90 s
    assert started.station("mill1").down == pytest.approx(0.5)
    # the other half hour at 90 s a part; the 20th would end at 3600 s, the end of the run
    assert started.station("mill1").produced == 19


@pytest.mark.integration
async def test_simulate_calibrates_from_a_store(tmp_path: Path) -> None:
    path = tmp_path / "history.duckdb"
    changes, _, _ = mill_failures(np.random.default_rng(3))
    async with DuckDBStore(path=path) as store:
        await store.append_records(changes)
    scenario = tmp_path / "s.yaml"
    scenario.write_text(
        f"plant: {PLANT_FILE}\nwarmup: 1 h\nscenarios:\n  baseline: {{}}\n", encoding="utf-8"
    )
    result = plantwin(
        "simulate",
        str(scenario),
        "--history",
        str(path),
        "--since",
        "1000d",
        "-n",
        "2",
        "--horizon",
        "1d",
        "--workers",
        "1",
    )
    assert result.returncode == 0, result.stderr
    assert "calibrated mill1 time_between_failures: Weibull" in result.stderr
    assert "(299 values)" in result.stderr
    assert "baseline" in result.stdout

"""Maintenance policies on the same line and random numbers: run to failure, fixed, condition."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from plantwin.simulation.line import (
    LineSpec,
    MaintenancePolicy,
    PolicyKind,
    StartState,
    StationSpec,
    WearSpec,
    run_line,
)
from plantwin.simulation.line.compare import rows
from plantwin.simulation.line.distributions import Fixed, LogNormal, Weibull
from plantwin.simulation.line.replications import difference
from plantwin.simulation.line.scenario import load_study
from plantwin.simulation.line.study import run_study

STUDY = Path(__file__).resolve().parents[2] / "examples" / "scenarios" / "maintenance-policies.yaml"
HOUR = 3600.0


def _worn_line(policy: MaintenancePolicy) -> LineSpec:
    wear = WearSpec(
        onset=Weibull(shape=2.0, scale=40 * HOUR),
        growth_a=LogNormal(mean=0.3, sigma=0.3),
        growth_tau=LogNormal(mean=6 * HOUR, sigma=0.2),
        v0=1.0,
        alarm_level=4.5,
        failure_level=7.1,
        replace=Fixed(value=3 * HOUR),
        planned_replace=Fixed(value=1 * HOUR),
    )
    station = StationSpec(name="m", cycle=Fixed(value=60.0), wear=wear)
    return LineSpec(name="worn", stations=(station,), buffers=(), policy=policy)


def test_policies_decide_who_replaces_the_part() -> None:
    horizon = 120 * 24 * HOUR
    rtf = run_line(_worn_line(MaintenancePolicy()), horizon_s=horizon, seed=2).stations[0]
    assert rtf.preventive == 0
    assert rtf.corrective == rtf.failures > 10
    cbm = run_line(
        _worn_line(MaintenancePolicy(kind=PolicyKind.CONDITION)), horizon_s=horizon, seed=2
    ).stations[0]
    # acting at the alarm leaves hours before the failure: no bearing fails
    assert cbm.corrective == 0
    assert cbm.preventive > 10
    assert cbm.down + cbm.maintenance < rtf.down
    fixed = run_line(
        _worn_line(MaintenancePolicy(kind=PolicyKind.FIXED_INTERVAL, interval_s=20 * HOUR)),
        horizon_s=horizon,
        seed=2,
    ).stations[0]
    # 20 h is short of most lives (onset alone ~35 h): many changes, few failures
    assert fixed.preventive > 2 * rtf.corrective
    assert fixed.corrective < rtf.corrective / 4


def test_late_action_lets_some_parts_fail() -> None:
    late = MaintenancePolicy(kind=PolicyKind.CONDITION, lead_s=4 * HOUR)
    result = run_line(_worn_line(late), horizon_s=200 * 24 * HOUR, seed=2).stations[0]
    assert result.corrective > 0
    assert result.preventive > 0


@pytest.mark.slow
def test_condition_based_downtime_is_lower_than_run_to_failure_on_the_demo_line() -> None:
    study = load_study(STUDY, horizon_s=15 * 24 * HOUR, replications=4)
    summaries = run_study(study, workers=2)
    by_name = {s.name: s for s in summaries}
    rtf, fixed = by_name["run to failure"], by_name["fixed interval 50 h"]
    cbm = by_name["condition (vibration alarm)"]
    less_down = difference(cbm, rtf, "downtime_h")
    assert less_down.high < 0, less_down  # lower, with 95 % confidence (paired, same seeds)
    assert cbm.kpis["downtime_h"].mean < rtf.kpis["downtime_h"].mean
    assert difference(fixed, rtf, "spare_parts").low > 0  # fixed intervals use more bearings
    assert difference(cbm, rtf, "output").mean > 0
    table = rows(summaries, study.kpis)
    downtime = next(r for r in table if r.key == "downtime_h")
    assert all("±" in cell for cell in downtime.cells)
    cost = next(r for r in table if r.key == "maintenance_cost")
    assert cost.estimates[0] is not None
    assert cost.estimates[0].mean > 0  # the study's costs are applied


def test_costs_follow_the_counts() -> None:
    line = _worn_line(MaintenancePolicy(kind=PolicyKind.CONDITION))
    costs = replace(line.costs, preventive=100.0, spare_part=10.0, downtime_per_h=1.0)
    result = run_line(replace(line, costs=costs), horizon_s=60 * 24 * HOUR, seed=3)
    s = result.stations[0]
    hours = (s.down + s.maintenance) * 60 * 24
    expected = 100.0 * s.preventive + 10.0 * (s.preventive + s.corrective) + hours
    assert result.maintenance_cost == pytest.approx(expected)
    assert result.spare_parts == s.preventive + s.corrective


def test_a_degraded_part_at_start_fails_or_is_changed_soon() -> None:
    ten_hours = 10 * HOUR
    rtf = _worn_line(MaintenancePolicy())
    fresh = run_line(rtf, horizon_s=ten_hours, seed=5).stations[0]
    near = run_line(rtf, horizon_s=ten_hours, seed=5, start=StartState(wear_level={"m": 6.8}))
    assert fresh.corrective == 0  # a new bearing is healthy for tens of hours
    assert near.stations[0].corrective == 1  # 6.8 of 7.1 mm/s: it fails within the hours
    cbm = _worn_line(MaintenancePolicy(kind=PolicyKind.CONDITION, lead_s=600.0))
    alarmed = run_line(cbm, horizon_s=ten_hours, seed=5, start=StartState(wear_level={"m": 5.0}))
    # past the alarm: changed after the lead time, before it can fail
    assert alarmed.stations[0].preventive == 1
    assert alarmed.stations[0].corrective == 0
    assert alarmed.stations[0].maintenance == pytest.approx(HOUR / ten_hours, rel=0.01)

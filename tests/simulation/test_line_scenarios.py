"""Scenario files: doubling the demo line's bottleneck, errors, the `simulate` command."""

from __future__ import annotations

from pathlib import Path

import pytest

from plantwin.simulation.line.compare import rows
from plantwin.simulation.line.replications import difference
from plantwin.simulation.line.scenario import ScenarioError, load_study, weekly_shifts
from plantwin.simulation.line.study import run_study
from tests.test_cli import plantwin

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "scenarios"
DOUBLE = EXAMPLES / "double-bottleneck.yaml"


def test_doubling_the_bottleneck_raises_throughput_and_moves_the_bottleneck() -> None:
    study = load_study(DOUBLE, horizon_s=8 * 86_400, replications=4)
    base, doubled, buffers = run_study(study, workers=2)
    assert base.bottleneck == "mill1"
    assert base.bottlenecks["mill1"] == 4  # in every replication
    assert doubled.bottleneck != "mill1"
    assert doubled.bottlenecks.get("mill1", 0) == 0
    gain = difference(doubled, base, "throughput_per_h")
    assert gain.low > 0.1 * base.kpis["throughput_per_h"].mean  # > 10 %, with 95 % confidence
    # a bigger buffer helps less than a second machine
    assert 0 < difference(buffers, base, "throughput_per_h").mean < gain.mean
    table = rows([base, doubled, buffers], study.kpis)
    assert [r.label for r in table][:2] == ["Throughput (parts/h)", "OEE, line"]
    assert table[-1].cells[0].startswith("mill1 (4/4 runs")


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "s.yaml"
    path.write_text(f"plant: {EXAMPLES.parent / 'machining-line.yaml'}\n{text}", encoding="utf-8")
    return path


def test_unknown_station_is_named(tmp_path: Path) -> None:
    path = _write(tmp_path, "scenarios:\n  x: {stations: {drill9: {machines: 2}}}\n")
    with pytest.raises(ScenarioError, match=r"scenario 'x'.*no station 'drill9'.*mill1"):
        load_study(path)


def test_bad_value_points_at_its_line(tmp_path: Path) -> None:
    path = _write(tmp_path, "scenarios:\n  x:\n    stations:\n      mill1: {machines: 0}\n")
    with pytest.raises(ScenarioError, match=r"s\.yaml:5 scenarios\.x\.stations\.mill1\.machines"):
        load_study(path)


def test_unknown_kpi_is_refused_before_running(tmp_path: Path) -> None:
    path = _write(tmp_path, "kpis: [throughput, oee]\nscenarios:\n  x: {}\n")
    with pytest.raises(ScenarioError, match=r"s\.yaml:2 kpis: .*unknown KPI\(s\) throughput"):
        load_study(path)


def test_fixed_interval_needs_an_interval(tmp_path: Path) -> None:
    path = _write(tmp_path, "scenarios:\n  pm: {maintenance: {policy: fixed_interval}}\n")
    with pytest.raises(ScenarioError, match="needs 'interval'"):
        load_study(path)


@pytest.mark.integration
def test_simulate_command_prints_the_table() -> None:
    result = plantwin("simulate", str(DOUBLE), "-n", "2", "--horizon", "2d", "--workers", "1")
    assert result.returncode == 0, result.stderr
    assert "baseline" in result.stdout
    assert "second mill" in result.stdout
    assert "Throughput (parts/h)" in result.stdout
    assert "Bottleneck (active period)" in result.stdout


@pytest.mark.integration
def test_simulate_command_names_a_bad_horizon() -> None:
    result = plantwin("simulate", str(DOUBLE), "--horizon", "ten days")
    assert result.returncode == 1
    assert "error:" in result.stderr


def test_shift_plan_working_time_and_next_start() -> None:
    plan = weekly_shifts([("Mon-Fri", "06:00", "22:00")])
    hour, day = 3600.0, 86_400.0
    assert plan.next_start(5 * hour) == 6 * hour  # Monday before the shift
    assert plan.next_start(7 * hour) == 7 * hour  # inside it
    assert plan.next_start(4 * day + 23 * hour) == 7 * day + 6 * hour  # Friday night -> Monday
    assert plan.working_s(0.0, 7 * day) == 5 * 16 * hour
    assert plan.working_s(0.0, 14 * day) == 10 * 16 * hour


def test_two_shifts_run_in_parallel_processes(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "warmup: 1 h\nscenarios:\n  all day: {}\n"
        "  two shifts: {shifts: [['Mon-Sun', '06:00', '22:00']]}\n",
    )
    study = load_study(path, horizon_s=4 * 86_400, replications=2)
    around, shifts = run_study(study, workers=2)
    ratio = shifts.kpis["throughput_per_h"].mean / around.kpis["throughput_per_h"].mean
    assert ratio == pytest.approx(16 / 24, abs=0.05)  # 16 of 24 hours worked
    # utilisation is per working hour: about the same
    mill_all = around.kpis["utilisation[mill1]"].mean
    assert shifts.kpis["utilisation[mill1]"].mean == pytest.approx(mill_all, abs=0.05)

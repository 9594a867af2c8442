"""Hourly energy forecast of the site meter: hours from the counter, backtest vs baseline."""

from __future__ import annotations

import json
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from typer.testing import CliRunner

from plantwin.analytics.forecast.energy import NS_PER_H, hourly
from plantwin.analytics.history import HistoryError, Series
from plantwin.cli import app as cli
from tests.conftest import ROOT

START = 1_767_225_600 * 10**9  # 2026-01-01 00:00 UTC


def test_hours_come_from_the_counter_in_site_time() -> None:
    ts = START + np.arange(0, 5 * 3600 + 1, 10, dtype=np.int64) * 10**9
    kw = np.where(ts <= START + 2 * NS_PER_H, 36.0, 72.0)  # over the 10 s ending at ts
    counter = Series(ts=ts, value=np.cumsum(kw * 10 / 3600.0))
    hours = hourly(counter, ZoneInfo("Asia/Seoul"), start_ns=START, end_ns=int(ts[-1]))
    assert hours.start_ns.tolist() == [START + k * NS_PER_H for k in range(5)]
    np.testing.assert_allclose(hours.kwh, [36.0, 36.0, 72.0, 72.0, 72.0], atol=0.05)
    assert hours.hour.tolist() == [9.0, 10.0, 11.0, 12.0, 13.0]  # UTC+9


def test_a_counter_without_readings_is_refused() -> None:
    empty = Series(ts=np.empty(0, np.int64), value=np.empty(0))
    with pytest.raises(HistoryError, match="no reading"):
        hourly(empty, ZoneInfo("UTC"), start_ns=START, end_ns=START + 5 * NS_PER_H)


@pytest.fixture(scope="module")
def energy_cli(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    """One `plantwin eval energy` run at its defaults (14 + 5 seeded days, 6 h ahead, seed 1),
    registered in a store: the study's figures and the command's output come from it, since
    simulating the demo line's days is most of the cost."""
    store = tmp_path_factory.mktemp("energy") / "models.duckdb"
    result = CliRunner().invoke(
        cli,
        ["eval", "energy", "--plant", str(ROOT / "examples" / "machining-line.yaml"),
         "--register", str(store), "--json"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    return result.output, store


@pytest.mark.slow
def test_the_forecast_beats_seasonal_naive_with_calibrated_intervals(
    energy_cli: tuple[str, Path],
) -> None:
    figures = json.loads(energy_cli[0].strip().splitlines()[-1])
    model, naive = figures["model"], figures["baseline"]
    assert model["origins"] >= 80
    assert model["mae_kwh"] < 0.97 * naive["mae_kwh"]
    assert model["mape_percent"] < naive["mape_percent"]
    assert 0.7 <= model["coverage"] <= 0.9  # nominal 80 % interval
    assert model["width_kwh"] < naive["width_kwh"]
    assert len(model["mae_by_horizon"]) == 6


@pytest.mark.slow
def test_eval_energy_prints_figures_and_registers_the_model(energy_cli: tuple[str, Path]) -> None:
    output, store = energy_cli
    assert "registered as energy_forecast@1" in output
    figures = json.loads(output.strip().splitlines()[-1])
    assert figures["model"]["name"] == "lightgbm-quantile"
    assert figures["baseline"]["name"] == "seasonal-naive"
    params = figures["record"]["params"]
    assert (params["seed"], params["horizon_h"]) == (1, 6)
    listed = CliRunner().invoke(cli, ["models", "show", "energy_forecast", "--store", str(store)])
    assert listed.exit_code == 0, listed.output
    assert "changwon.meter1/energy" in listed.output

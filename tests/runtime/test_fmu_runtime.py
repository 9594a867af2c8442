"""The oven example end to end: a replayed recording, the thermal FMU, a rule on the residual."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from plantwin.core.records import AlarmEvent
from plantwin.core.store import HistoryQuery, RecordQuery
from plantwin.model.problems import PlantFileError
from plantwin.runtime import Runtime, Settings
from plantwin.runtime.replay import plan_replay, replay_file
from plantwin.store import DuckDBStore
from tests.fmu_support import ROOT

EXAMPLE = ROOT / "examples" / "fmu"
START = int(datetime(2026, 11, 20, 6, 0, tzinfo=UTC).timestamp()) * 1_000_000_000
MIN = 60 * 1_000_000_000


def _example(tmp_path: Path, fmu: Path) -> Path:
    for name in ("oven-line.yaml", "oven-line.csv"):
        shutil.copy(EXAMPLE / name, tmp_path / name)
    shutil.copy(fmu, tmp_path / "thermal.fmu")  # where the plant file expects the built FMU
    return tmp_path / "oven-line.yaml"


async def test_residual_rule_alarms_after_the_fault(thermal_fmu: Path, tmp_path: Path) -> None:
    plant_file = _example(tmp_path, thermal_fmu)
    store_file = tmp_path / "oven.duckdb"
    settings, name = plan_replay(
        Settings(plant=plant_file, store=str(store_file)), file=tmp_path / "oven-line.csv"
    )
    summary = await replay_file(settings, name)
    steps = 40 * 60  # 40 min of 1 s communication steps, plus the start
    assert summary.samples == 3 * 481
    # The model temperature at every step, the residual at every measured sample (5 s).
    assert summary.derived == (steps + 1) + 481
    assert summary.dead_letters == 0

    async with DuckDBStore(path=store_file) as store:
        ids = await store.register_signals(["plant.oven/temp_residual", "plant.oven/temp_model"])
        residual = await store.history(
            HistoryQuery(signal=ids["plant.oven/temp_residual"], start=START, end=START + 41 * MIN)
        )
        alarms = [
            r
            for r in await store.records(RecordQuery(kind=AlarmEvent, limit=100))
            if isinstance(r, AlarmEvent)
        ]
    ts, value = np.asarray(residual.ts), np.asarray(residual.last)
    assert ts.size == 481
    # The recording follows the model's physics until the door seal fails at 20 min.
    assert np.abs(value[ts <= START + 20 * MIN]).max() < 0.02
    assert value[ts >= START + 25 * MIN].min() > 5.0
    activations = [a for a in alarms if a.action == "activate"]
    assert [a.alarm for a in activations] == ["plant.oven:model_mismatch"]
    # 3 K residual a little after 20 min, then the rule's 1 min on-delay.
    assert START + 21 * MIN < activations[0].ts < START + 23 * MIN


def test_runtime_without_the_built_fmu_refuses_to_start(tmp_path: Path) -> None:
    for name in ("oven-line.yaml", "oven-line.csv"):
        shutil.copy(EXAMPLE / name, tmp_path / name)
    with pytest.raises(PlantFileError) as caught:
        Runtime(Settings(plant=tmp_path / "oven-line.yaml", store=":memory:"))
    (problem,) = caught.value.problems
    assert problem.render("oven-line.yaml").startswith(
        "oven-line.yaml:47 fmus.oven_thermal.file: no FMU at "
    )

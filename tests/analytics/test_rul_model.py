"""RulModel on synthetic run-to-failure engines under several operating conditions (the shape
of FD002/FD004): wear shows through the condition jumps and the interval brackets the point."""

from __future__ import annotations

import numpy as np
import pytest

from plantwin.analytics.rul.data import Runs
from plantwin.analytics.rul.metrics import rmse
from plantwin.analytics.rul.model import RulModel, RulSettings

POINTS = np.array([[0.0, 0.0, 100.0], [20.0, 0.7, 100.0], [35.0, 0.84, 100.0], [42.0, 0.84, 60.0]])


def _engines(count: int, seed: int) -> Runs:
    rng = np.random.default_rng(seed)
    units, cycles, settings, sensors = [], [], [], []
    for unit in range(1, count + 1):
        life = int(rng.integers(150, 300))
        cycle = np.arange(1, life + 1)
        condition = rng.integers(0, len(POINTS), size=life)
        wear = np.exp((cycle - life) / 40.0)  # invisible early, steep at the end
        offset = 50.0 * condition[:, None]  # jumps between conditions dwarf the wear
        noise = rng.normal(0, 0.3, size=(life, 3))
        units.append(np.full(life, unit))
        cycles.append(cycle)
        settings.append(POINTS[condition] + rng.normal(0, 0.001, size=(life, 3)))
        sensors.append(np.column_stack([offset + 5 * wear[:, None] + noise, np.ones(life)]))
    return Runs(
        unit=np.concatenate(units),
        cycle=np.concatenate(cycles),
        settings=np.concatenate(settings),
        sensors=np.concatenate(sensors),
    )


@pytest.mark.slow
def test_rul_under_four_operating_conditions() -> None:
    small = RulSettings(trees=150, learning_rate=0.05, threads=1)
    model = RulModel(settings=small, seed=3).fit(_engines(40, seed=1))
    assert model.conditions == 4
    assert model.sensors == 3  # the constant sensor is dropped
    test = _engines(20, seed=2)
    prediction = model.predict(test)
    end = test.last_rows()
    true = np.zeros(len(end))  # last cycle of a run to failure: RUL 0
    assert rmse(prediction.rul[end], true) < 10.0
    early = end - 100  # 100 cycles before failure the wear signal is still small but visible
    assert rmse(prediction.rul[early], np.full(len(end), 100.0)) < 25.0
    assert (prediction.lower <= prediction.rul).all()
    assert (prediction.rul <= prediction.upper).all()
    assert (prediction.rul >= 0).all()
    assert (prediction.rul <= 125).all()

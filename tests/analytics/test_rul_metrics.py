"""RUL metrics, target and windowed features against values worked out by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from plantwin.analytics.rul.features import WINDOWS, piecewise_target, window_features
from plantwin.analytics.rul.metrics import coverage, phm08_score, rmse


def test_rmse() -> None:
    assert rmse(np.array([1.0, 2.0]), np.array([3.0, 2.0])) == pytest.approx(math.sqrt(2.0))


def test_phm08_score_punishes_late_more_than_early() -> None:
    # d = -13 -> e - 1; d = +10 -> e - 1; d = 0 -> 0
    predicted = np.array([7.0, 30.0, 50.0])
    true = np.array([20.0, 20.0, 50.0])
    assert phm08_score(predicted, true) == pytest.approx(2 * (math.e - 1))
    early = phm08_score(np.array([10.0]), np.array([20.0]))  # exp(10/13) - 1
    late = phm08_score(np.array([30.0]), np.array([20.0]))  # exp(1) - 1
    assert early == pytest.approx(math.exp(10 / 13) - 1)
    assert late > early


def test_coverage_counts_the_bounds_as_inside() -> None:
    lower = np.array([0.0, 10.0, 10.0, 10.0])
    upper = np.array([5.0, 20.0, 20.0, 20.0])
    assert coverage(lower, upper, np.array([5.0, 10.0, 25.0, 9.0])) == pytest.approx(0.5)


def test_piecewise_target_per_engine_and_capped() -> None:
    unit = np.array([1, 1, 1, 1, 2, 2])
    cycle = np.array([1, 2, 3, 4, 1, 2])
    assert piecewise_target(unit, cycle, cap=2.0).tolist() == [2.0, 2.0, 1.0, 0.0, 1.0, 0.0]


def test_window_features_of_a_line_and_engine_boundaries() -> None:
    # engine 1: value = 2 * cycle; engine 2 starts again and must not see engine 1
    unit = np.array([1] * 40 + [2] * 3)
    cycle = np.concatenate([np.arange(1, 41), np.arange(1, 4)])
    values = (2.0 * cycle)[:, None]
    features = window_features(unit, cycle, values)
    stats = features[:, 2:].reshape(len(unit), len(WINDOWS) * 3 + 1)
    last = stats[39]
    for i, window in enumerate(WINDOWS):
        mean, std, slope = last[3 * i : 3 * i + 3]
        assert mean == pytest.approx(2.0 * (40 - (window - 1) / 2))
        assert std == pytest.approx(2.0 * math.sqrt((window**2 - 1) / 12))
        assert slope == pytest.approx(2.0)
    assert last[-1] == pytest.approx(41.0)  # mean since start: 2 * 20.5
    assert features[40, 0] == 1.0  # cycle
    assert stats[40, 0] == pytest.approx(2.0)  # first row of engine 2: only its own value
    assert stats[40, 2] == 0.0  # one point has no slope
    assert stats[42, 2] == pytest.approx(2.0)

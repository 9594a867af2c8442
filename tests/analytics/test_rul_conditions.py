"""Operating conditions are found from the settings and sensors are normalised per condition."""

from __future__ import annotations

import numpy as np

from plantwin.analytics.rul.conditions import fit_normaliser

POINTS = np.array([[0.0, 0.0, 100.0], [20.0, 0.7, 100.0], [42.0, 0.84, 60.0]])


def _rows(points: np.ndarray, n: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    label = rng.integers(0, len(points), size=n)
    settings = points[label] + rng.normal(0, [0.003, 0.0003, 0.0], size=(n, 3))
    # sensor 0 jumps with the condition and carries noise; sensor 1 is constant
    sensors = np.column_stack([100.0 * label + rng.normal(0, 1.0, n), np.full(n, 7.0)])
    return settings, sensors, label


def test_three_operating_points_become_three_conditions() -> None:
    settings, sensors, label = _rows(POINTS, 3000, seed=1)
    normaliser = fit_normaliser(settings, sensors, seed=0)
    assert normaliser.conditions == 3
    found = normaliser.condition(settings)
    # the same grouping, whatever the cluster numbering
    assert len({(a, b) for a, b in zip(label.tolist(), found.tolist(), strict=True)}) == 3
    z = normaliser.transform(settings, sensors)
    assert normaliser.kept.tolist() == [0]  # the constant sensor is dropped
    assert abs(z[:, 0].mean()) < 0.05
    assert 0.9 < z[:, 0].std() < 1.1  # the jumps between conditions are gone


def test_jitter_around_one_point_is_one_condition() -> None:
    settings, sensors, _ = _rows(POINTS[:1], 2000, seed=2)
    normaliser = fit_normaliser(settings, sensors, seed=0)
    assert normaliser.conditions == 1

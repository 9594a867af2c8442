"""Contract suite of the anomaly detectors, health mapping and drift adaptation."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from plantwin.analytics.anomaly import (
    Adaptive,
    Detector,
    DetectorError,
    IsolationForestDetector,
    PcaT2Spe,
    Smoothed,
    component_health,
    health,
)
from plantwin.analytics.anomaly.detector import FloatArray

MIXING = np.array(
    [
        [1.0, 0.95, 0.0, 0.0],
        [0.0, 0.3, 0.0, 0.0],
        [0.0, 0.0, 1.0, 0.95],
        [0.0, 0.0, 0.0, 0.3],
    ]
)


def healthy(n: int, seed: int) -> FloatArray:
    """Four correlated signals (two pairs), offset and scaled like real units."""
    latent = np.random.default_rng(seed).normal(size=(n, 4))
    rows: FloatArray = latent @ MIXING * np.array([2.0, 5.0, 0.5, 1.0]) + np.array(
        [10.0, 50.0, 3.0, -1.0]
    )
    return rows


FACTORIES: dict[str, Callable[[], Detector]] = {
    "pca": lambda: PcaT2Spe(variance=0.9),
    "pca-empirical": lambda: PcaT2Spe(variance=0.9, limits="empirical"),
    "iforest": lambda: IsolationForestDetector(seed=1),
    "pca-ewma": lambda: Smoothed(PcaT2Spe(variance=0.9, limits="empirical")),
    "iforest-ewma": lambda: Smoothed(IsolationForestDetector(seed=1)),
}


@pytest.fixture(params=sorted(FACTORIES))
def detector(request: pytest.FixtureRequest) -> Detector:
    made = FACTORIES[request.param]()
    made.fit(healthy(4000, seed=0))
    return made


def test_healthy_rows_stay_mostly_below_the_limit(detector: Detector) -> None:
    scored = detector.score(healthy(4000, seed=1))
    assert 0.0 < scored.flagged.mean() < 0.04  # alpha = 1 %, new data, sampling spread


def test_a_shifted_signal_is_flagged_and_named(detector: Detector) -> None:
    rows = healthy(200, seed=2)
    rows[:, 2] += 6 * 0.5  # six standard deviations of signal 2's own noise
    scored = detector.score(rows)
    assert scored.flagged.mean() > 0.9
    # signal 2 and its correlated partner 3 carry the score (SPE smears a fault over the
    # signals it breaks the correlation of); signal 2 is named most often
    pair = scored.contributions[:, 2:].sum(axis=1) / scored.score
    assert np.median(pair[scored.flagged]) > 0.8
    top = scored.top()[scored.flagged]
    assert np.mean(top == 2) >= np.mean(top == 3) or np.mean(np.isin(top, [2, 3])) > 0.9


@pytest.mark.parametrize("name", ["pca", "pca-empirical"])
def test_pca_flags_a_broken_correlation(name: str) -> None:
    # (the isolation forest does not: it splits one signal at a time)
    detector = FACTORIES[name]()
    detector.fit(healthy(4000, seed=0))
    rows = healthy(400, seed=3)
    rows[:, 1] = 50.0 - (rows[:, 1] - 50.0)  # signal 1 now moves against signal 0
    broken = np.abs(rows[:, 0] - 10.0) > 2.0  # rows where the two are a sigma or more apart
    assert detector.score(rows).flagged[broken].mean() > 0.6


def test_contributions_are_non_negative_and_sum_to_the_score(detector: Detector) -> None:
    rows = healthy(300, seed=4)
    rows[::3, 3] += 5.0
    scored = detector.score(rows)
    assert scored.contributions.shape == (300, 4)
    assert (scored.contributions >= 0).all()
    np.testing.assert_allclose(
        scored.contributions.sum(axis=1), scored.score, rtol=1e-9, atol=1e-12
    )


def test_bad_rows_are_refused_with_a_reason(detector: Detector) -> None:
    with pytest.raises(DetectorError, match="3 signals, the detector was fitted on 4"):
        detector.score(np.zeros((5, 3)))
    rows = healthy(5, seed=5)
    rows[3, 1] = np.nan
    with pytest.raises(DetectorError, match="row 3 holds a value that is not a finite number"):
        detector.score(rows)


def test_an_empty_batch_scores_to_nothing(detector: Detector) -> None:
    scored = detector.score(np.empty((0, 4)))
    assert scored.score.shape == (0,)
    assert scored.contributions.shape == (0, 4)


@pytest.mark.parametrize("name", sorted(FACTORIES))
def test_too_few_healthy_rows_is_an_error(name: str) -> None:
    with pytest.raises(DetectorError, match="healthy rows"):
        FACTORIES[name]().fit(healthy(6, seed=0))


@pytest.mark.parametrize("name", sorted(FACTORIES))
def test_unfitted_detector_refuses_to_score(name: str) -> None:
    with pytest.raises(DetectorError, match="not fitted"):
        FACTORIES[name]().score(np.zeros((1, 4)))


def test_pca_keeps_the_components_for_the_variance_asked() -> None:
    pca = PcaT2Spe(variance=0.9)
    pca.fit(healthy(4000, seed=0))
    assert pca.components == 2  # two independent pairs carry most of the variance
    assert pca.t2_limit > 0
    assert pca.spe_limit > 0


def test_health_is_100_at_the_centre_50_at_the_limit_and_falls() -> None:
    values = health(np.array([0.0, 0.5, 1.0, 2.0, 3.0]))
    np.testing.assert_allclose(values, [100.0, 80.0, 50.0, 20.0, 10.0])


def test_component_health_uses_its_own_signals_share() -> None:
    detector = PcaT2Spe()
    detector.fit(healthy(4000, seed=0))
    rows = healthy(100, seed=6)
    rows[:, 2] += 5.0
    parts = component_health(detector.score(rows), {"a": [0, 1], "b": [2, 3]})
    assert np.median(parts["b"]) < 50.0 < np.median(parts["a"])


def _drifting(n: int, per_row: float, seed: int, start: int = 0) -> FloatArray:
    """Healthy rows whose signal 2 drifts by ``per_row`` standard deviations per row."""
    rows = healthy(n, seed=seed)
    steps = np.maximum(np.arange(n) - start, 0)
    rows[:, 2] += steps * per_row * 0.5
    return rows


def _run(detector: Detector, rows: FloatArray, batch: int = 500) -> FloatArray:
    return np.concatenate(
        [detector.score(rows[i : i + batch]).score for i in range(0, len(rows), batch)]
    )


@pytest.mark.parametrize("name", ["pca", "iforest"])
def test_slow_drift_is_followed_but_a_developing_fault_is_flagged(name: str) -> None:
    fit = healthy(4000, seed=0)
    # benign: 6 standard deviations over 60,000 rows (1e-4 per row, below the cap of 2e-4)
    drift = _drifting(60_000, 1e-4, seed=7)
    fixed = FACTORIES[name]()
    fixed.fit(fit)
    adaptive = Adaptive(FACTORIES[name](), halflife=500, max_step=2e-4)
    adaptive.fit(fit)
    tail = slice(50_000, None)
    assert (_run(fixed, drift)[tail] > 1).mean() > 0.3  # without adaptation: false alarms
    assert (_run(adaptive, drift)[tail] > 1).mean() < 0.05  # followed: healthy

    # a fault growing 2e-3 standard deviations per row (10x the cap) from row 5,000
    fault = _drifting(12_000, 2e-3, seed=8, start=5000)
    adaptive = Adaptive(FACTORIES[name](), halflife=500, max_step=2e-4)
    adaptive.fit(fit)
    scores = _run(adaptive, fault)
    assert (scores[:5000] > 1).mean() < 0.05
    assert (scores[-2000:] > 1).mean() > 0.9  # 10-14 standard deviations in: not absorbed
    assert adaptive.offset[2] < 7000 * 2e-4 * 0.5 * 1.05  # no faster than the cap allows
    onset = int(np.argmax(scores[5000:] > 1))  # first flag after the fault began
    assert onset < 3000  # within 6 standard deviations of growth

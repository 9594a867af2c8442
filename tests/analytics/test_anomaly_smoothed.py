"""The EWMA-smoothed detector: small persistent shifts, its healthy false-alarm rate, state."""

from __future__ import annotations

from typing import get_args

import numpy as np
import pytest

from plantwin.analytics.anomaly import DetectorError, IsolationForestDetector, PcaT2Spe, Smoothed
from plantwin.analytics.anomaly.evaluation import DETECTORS
from plantwin.analytics.anomaly.kinds import KINDS, detector_of
from plantwin.analytics.anomaly.online import make_detector
from plantwin.cli.eval_anomalies import DEFAULT_DETECTORS
from plantwin.model.schema import HealthSpec
from tests.analytics.test_anomaly_detectors import healthy


def _pair(fit_rows: int) -> tuple[PcaT2Spe, Smoothed]:
    fit = healthy(fit_rows, seed=0)
    row, smoothed = PcaT2Spe(limits="empirical"), Smoothed(PcaT2Spe(limits="empirical"))
    row.fit(fit)
    smoothed.fit(fit)
    return row, smoothed


@pytest.mark.parametrize("kind", ["pca-ewma", "mewma"])
def test_a_small_persistent_shift_is_caught_where_the_row_wise_detector_misses_most(
    kind: str,
) -> None:
    fit = healthy(4000, seed=0)
    row, smoothed = PcaT2Spe(limits="empirical"), detector_of(kind, 0)
    row.fit(fit)
    smoothed.fit(fit)
    rows = healthy(1000, seed=2)
    rows[:, 2] += 0.5 * 0.5  # half a standard deviation of signal 2, from the first row
    assert row.score(rows).flagged.mean() < 0.3  # each row alone: mostly inside
    warm_up = Smoothed(PcaT2Spe()).warm_up
    assert smoothed.score(rows).flagged[warm_up:].mean() > 0.9  # once the EWMA has it


@pytest.mark.parametrize("kind", ["pca", "pca-ewma", "mewma"])
def test_healthy_false_alarm_rate_is_near_its_design(kind: str) -> None:
    # design: T² and SPE each above its 0.99 quantile on 1 % of the (smoothed) healthy
    # rows, so 1-2 % of rows (the two overlap); smoothed rows are autocorrelated: many rows
    detector = detector_of(kind, 0)
    detector.fit(healthy(20_000, seed=0))
    assert 0.005 < detector.score(healthy(20_000, seed=1)).flagged.mean() < 0.03


def test_scores_do_not_depend_on_how_the_rows_are_cut() -> None:
    _, whole = _pair(2000)
    _, pieces = _pair(2000)
    rows = healthy(700, seed=3)
    rows[300:, 0] += 1.0
    at_once = whole.score(rows).score
    cut = np.concatenate([pieces.score(rows[a:b]).score for a, b in [(0, 1), (1, 250), (250, 700)]])
    np.testing.assert_allclose(cut, at_once, rtol=1e-9)
    assert whole.score(rows[:0]).score.shape == (0,)


def test_lambda_one_is_the_row_wise_detector() -> None:
    fit, rows = healthy(2000, seed=0), healthy(300, seed=4)
    row, same = PcaT2Spe(limits="empirical"), Smoothed(PcaT2Spe(limits="empirical"), lam=1.0)
    row.fit(fit)
    same.fit(fit)
    np.testing.assert_allclose(same.score(rows).score, row.score(rows).score, rtol=1e-12)


@pytest.mark.parametrize("lam", [0.0, -0.1, 1.5])
def test_a_weight_outside_0_1_is_refused(lam: float) -> None:
    with pytest.raises(DetectorError, match="lam must be in"):
        Smoothed(PcaT2Spe(), lam=lam)


def test_the_plant_file_the_live_twin_and_the_cli_offer_the_same_kinds() -> None:
    field = HealthSpec.model_fields["detector"].annotation
    literal = next(arg for arg in get_args(field) if get_args(arg))
    assert set(get_args(literal)) == set(KINDS)
    assert set(KINDS) <= set(DETECTORS)
    assert tuple(DETECTORS) == DEFAULT_DETECTORS


def test_the_live_twin_builds_the_smoothed_kinds_under_its_drift_adaptation() -> None:
    detector = make_detector("mewma", every_ns=10 * 10**9, seed=0)
    detector.fit(healthy(4000, seed=0))
    rows = healthy(600, seed=5)
    rows[300:, 2] += 0.5 * 0.5
    flagged = np.concatenate([detector.score(rows[i : i + 7]).flagged for i in range(0, 600, 7)])
    assert flagged[:300].mean() < 0.05
    assert flagged[400:].mean() > 0.9


def test_rows_enough_for_the_wrapped_detector_are_enough_smoothed() -> None:
    # 60 rows: the isolation forest fits on 50 or more; without the 29 warm-up rows 31 remain
    rows = healthy(60, seed=0)
    IsolationForestDetector(seed=0).fit(rows)
    smoothed = Smoothed(IsolationForestDetector(seed=0))
    smoothed.fit(rows)
    assert smoothed.score(healthy(5, seed=1)).score.shape == (5,)

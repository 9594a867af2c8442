"""Precision, recall, F1 and support against counts worked out by hand."""

from __future__ import annotations

import numpy as np
import pytest

from plantwin.analytics.failures.metrics import scores


def test_scores_match_hand_computed_counts() -> None:
    truth = np.array([1, 1, 1, 1, 0, 0, 0, 0, 0, 0], dtype=bool)
    predicted = np.array([1, 1, 1, 0, 1, 1, 0, 0, 0, 0], dtype=bool)
    result = scores(truth, predicted)
    # tp 3 (rows 0-2), fn 1 (row 3), fp 2 (rows 4-5), tn 4
    assert (result.tp, result.fp, result.fn, result.tn) == (3, 2, 1, 4)
    assert result.support == 4
    assert result.precision == pytest.approx(3 / 5)
    assert result.recall == pytest.approx(3 / 4)
    assert result.f1 == pytest.approx(2 * 0.6 * 0.75 / (0.6 + 0.75))  # = 6/9


def test_no_predicted_positive_scores_zero_not_nan() -> None:
    truth = np.array([1, 0, 0], dtype=bool)
    result = scores(truth, np.zeros(3, dtype=bool))
    assert (result.precision, result.recall, result.f1, result.support) == (0.0, 0.0, 0.0, 1)


def test_as_dict_rounds_figures_and_keeps_counts() -> None:
    result = scores(np.array([1, 1, 1, 0], dtype=bool), np.array([1, 0, 0, 0], dtype=bool))
    assert result.as_dict() == {
        "precision": 1.0,
        "recall": 0.3333,
        "f1": 0.5,
        "support": 3,
        "tp": 1,
        "fp": 0,
        "fn": 2,
        "tn": 1,
    }


def test_shapes_must_match() -> None:
    with pytest.raises(ValueError, match="shape"):
        scores(np.zeros(3, dtype=bool), np.zeros(4, dtype=bool))

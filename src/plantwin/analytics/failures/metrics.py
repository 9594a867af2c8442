"""Precision, recall, F1 and support of a binary classifier, computed from counts."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from plantwin.analytics.failures.data import BoolArray


@dataclass(frozen=True, slots=True, kw_only=True)
class Scores:
    """Confusion counts and the figures derived from them (0.0 where undefined)."""

    tp: int
    fp: int
    fn: int
    tn: int

    @property
    def support(self) -> int:
        """Number of true positives in the data (labelled failures)."""
        return self.tp + self.fn

    @property
    def precision(self) -> float:
        return _ratio(self.tp, self.tp + self.fp)

    @property
    def recall(self) -> float:
        return _ratio(self.tp, self.tp + self.fn)

    @property
    def f1(self) -> float:
        return _ratio(2 * self.tp, 2 * self.tp + self.fp + self.fn)

    def as_dict(self) -> dict[str, float | int]:
        return {
            "precision": round(self.precision, 4),
            "recall": round(self.recall, 4),
            "f1": round(self.f1, 4),
            "support": self.support,
            "tp": self.tp,
            "fp": self.fp,
            "fn": self.fn,
            "tn": self.tn,
        }


def scores(truth: BoolArray, predicted: BoolArray) -> Scores:
    """Counts of a prediction against the truth; both arrays have the same length."""
    if truth.shape != predicted.shape:
        raise ValueError(f"truth has shape {truth.shape}, prediction {predicted.shape}")
    return Scores(
        tp=int(np.count_nonzero(truth & predicted)),
        fp=int(np.count_nonzero(~truth & predicted)),
        fn=int(np.count_nonzero(truth & ~predicted)),
        tn=int(np.count_nonzero(~truth & ~predicted)),
    )


def _ratio(numerator: int, denominator: int) -> float:
    # sklearn's zero_division=0 convention: no predicted (or no true) positives scores 0.
    return numerator / denominator if denominator else 0.0

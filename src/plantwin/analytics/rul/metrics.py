"""RUL error measures: RMSE, the asymmetric PHM08 score, and interval coverage."""

from __future__ import annotations

import numpy as np

from plantwin.analytics.rul.data import FloatArray


def rmse(predicted: FloatArray, true: FloatArray) -> float:
    """Root mean squared error in cycles."""
    return float(np.sqrt(np.mean((predicted - true) ** 2)))


def phm08_score(predicted: FloatArray, true: FloatArray) -> float:
    """Sum over engines of exp(-d/13)-1 for d < 0 and exp(d/10)-1 for d >= 0, d = predicted -
    true: late predictions (d > 0) cost more than early ones."""
    d = predicted - true
    return float(np.where(d < 0, np.exp(-d / 13.0) - 1.0, np.exp(d / 10.0) - 1.0).sum())


def coverage(lower: FloatArray, upper: FloatArray, true: FloatArray) -> float:
    """Share of engines whose true RUL lies inside [lower, upper]."""
    return float(np.mean((true >= lower) & (true <= upper)))

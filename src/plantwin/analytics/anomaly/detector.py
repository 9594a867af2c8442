"""The detector seam: fit on healthy rows, score any rows with a per-signal explanation.

Rows are samples in time, columns are signals (one matrix, never a Python object per
sample). A score is normalised to the detector's own control limit: 0 is the healthy centre,
1.0 is the limit fitted on the healthy data, above 1.0 the row is flagged. Contributions say
how much of a row's score each signal carries; they are non-negative and sum to the score.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np
import numpy.typing as npt

from plantwin.core.errors import AnalyticsError

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


class DetectorError(AnalyticsError):
    """A detector cannot be fitted or used on the rows given; the message says why."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Scored:
    """Scores of n rows over p signals."""

    score: FloatArray  # (n,), 1.0 = the control limit
    contributions: FloatArray  # (n, p), >= 0, each row sums to its score

    @property
    def flagged(self) -> BoolArray:
        return self.score > 1.0

    def top(self) -> npt.NDArray[np.intp]:
        """Column of the signal contributing most, per row."""
        return (
            np.argmax(self.contributions, axis=1)
            if self.contributions.size
            else np.zeros(0, np.intp)
        )


class Detector(Protocol):
    """A multivariate anomaly detector fitted on a healthy period."""

    def fit(self, healthy: FloatArray) -> None:
        """Learn the healthy behaviour and the control limit from rows known to be healthy."""
        ...

    def score(self, rows: FloatArray) -> Scored:
        """Score rows (same columns as fitted); ``score > 1`` means outside the limit."""
        ...


def check_rows(rows: FloatArray, width: int | None, what: str) -> FloatArray:
    """Rows as a 2-D float matrix; raise DetectorError naming what is wrong."""
    matrix = np.asarray(rows, dtype=np.float64)
    if matrix.ndim != 2:
        raise DetectorError(f"{what}: expected a 2-D matrix (rows x signals), got {matrix.ndim}-D")
    if width is not None and matrix.shape[1] != width:
        raise DetectorError(
            f"{what}: {matrix.shape[1]} signals, the detector was fitted on {width}"
        )
    if not np.isfinite(matrix).all():
        bad = int(np.argwhere(~np.isfinite(matrix))[0][0])
        raise DetectorError(f"{what}: row {bad} holds a value that is not a finite number")
    return matrix


def spread(healthy: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Mean and standard deviation per signal; a constant signal gets a small floor
    (1e-6 of its magnitude, at least 1e-9) so any change in it stands out without dividing by 0."""
    mean = healthy.mean(axis=0)
    std = healthy.std(axis=0, ddof=1) if len(healthy) > 1 else np.zeros_like(mean)
    floor = np.maximum(1e-6 * np.abs(mean), 1e-9)
    return mean, np.maximum(std, floor)


def share(weights: FloatArray, score: FloatArray) -> FloatArray:
    """Scale non-negative weights (n, p) so that each row sums to its score; equal shares
    where a row has no weight at all."""
    weights = np.maximum(weights, 0.0)
    total = weights.sum(axis=1, keepdims=True)
    p = weights.shape[1]
    even = np.full_like(weights, 1.0 / p) if p else weights
    fractions: FloatArray = np.divide(weights, total, out=even, where=total > 0)
    return fractions * score[:, None]

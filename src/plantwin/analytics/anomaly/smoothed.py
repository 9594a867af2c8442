"""Time-smoothed detection of small persistent shifts: a detector on EWMA-smoothed rows.

A row-wise detector judges each row alone, so a shift much smaller than the rows' own
spread flags only the few rows where noise happens to push it over the limit. Process
monitoring smooths first: the multivariate EWMA (MEWMA, Lowry et al. 1992)
``Z_t = λ x_t + (1 - λ) Z_{t-1}`` averages about ``2/λ - 1`` rows, shrinking the noise while
a persistent shift stays whole, and the statistic is computed on ``Z``.

:class:`Smoothed` wraps any detector that way: it is fitted on the smoothed healthy rows,
so its centre, spread, correlation structure and (empirical) limits are those of the
smoothed statistic. Around :class:`PcaT2Spe` this is T² of the smoothed scores and SPE of
the smoothed residuals. The textbook MEWMA covariance ``λ/(2-λ) Σ`` and its chi-square /
ARL-table limits assume independent rows; a plant's rows are autocorrelated (a cycle lasts
minutes), so both are taken from the smoothed healthy rows instead: wrap a detector with
empirical limits (``PcaT2Spe(limits="empirical")``), not the theory ones.

Scoring is stateful (the EWMA carries over between calls, from the end of the healthy
rows on) and O(signals) per row: one first-order filter over the batch.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import signal

from plantwin.analytics.anomaly.detector import (
    Detector,
    DetectorError,
    FloatArray,
    Scored,
    check_rows,
)

# λ = 0.1: the usual choice for shifts of about one standard deviation (Lowry et al. 1992;
# Montgomery, Introduction to Statistical Quality Control, λ in 0.05-0.25); about 19 rows
# averaged, 3 minutes of 10 s rows: short against the demo's 5-minute alarm delay.
DEFAULT_LAMBDA = 0.1
# The start value's weight left after the warm-up rows; the fit skips them (they are
# smoother than the steady state and would lower the limit).
WARM_UP_WEIGHT = 0.05


class Smoothed:
    """A detector scoring the EWMA of the rows instead of the rows.

    Args:
        inner: the detector fitted on (and scoring) the smoothed rows; use empirical limits.
        lam: EWMA weight of the newest row, in (0, 1]; 1 is no smoothing.
    """

    def __init__(self, inner: Detector, *, lam: float = DEFAULT_LAMBDA) -> None:
        if not 0.0 < lam <= 1.0:
            raise DetectorError(f"the EWMA weight lam must be in (0, 1], got {lam}")
        self.inner = inner
        self.lam = lam
        self.state = np.zeros(0)  # the EWMA after the last row seen

    @property
    def warm_up(self) -> int:
        """Rows until the start value weighs less than ``WARM_UP_WEIGHT``."""
        if self.lam >= 1.0:
            return 0
        return math.ceil(math.log(WARM_UP_WEIGHT) / math.log(1.0 - self.lam))

    def fit(self, healthy: FloatArray) -> None:
        """Smooth the healthy rows from their mean, fit the inner detector on the result
        (without the warm-up rows, when at least as many remain and the inner detector
        can fit on the rest: rows enough for it unsmoothed are enough smoothed)."""
        rows = check_rows(healthy, None, "healthy rows")
        if not len(rows):
            raise DetectorError("healthy rows: none to fit on")
        smooth, state = ewma(rows, rows.mean(axis=0), self.lam)
        skip = self.warm_up if len(rows) >= 2 * self.warm_up else 0
        try:
            self.inner.fit(smooth[skip:])
        except DetectorError:
            if not skip:
                raise
            self.inner.fit(smooth)  # too few without the warm-up (say, under 50 for a forest)
        self.state = state

    def score(self, rows: FloatArray) -> Scored:
        """Score the EWMA at each row; the EWMA goes on from the last row seen."""
        if not len(self.state):
            raise DetectorError("the smoothed detector is not fitted")
        matrix = check_rows(rows, len(self.state), "rows to score")
        if not len(matrix):
            return self.inner.score(matrix)
        smooth, self.state = ewma(matrix, self.state, self.lam)
        return self.inner.score(smooth)


def ewma(rows: FloatArray, start: FloatArray, lam: float) -> tuple[FloatArray, FloatArray]:
    """``Z_t = lam x_t + (1 - lam) Z_{t-1}`` down the rows from ``Z_0 = start``; the smoothed
    rows and the last of them (one C loop per batch: scipy's first-order filter)."""
    decay = 1.0 - lam
    smooth, _ = signal.lfilter([lam], [1.0, -decay], rows, axis=0, zi=decay * start[None, :])
    out: FloatArray = np.asarray(smooth, dtype=np.float64)
    return out, out[-1].copy()

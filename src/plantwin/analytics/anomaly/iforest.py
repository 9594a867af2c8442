"""Isolation forest (Liu, Ting & Zhou 2008) as a detector: a learned, distribution-free one.

Signals are standardised on the healthy rows. The raw anomaly score is scikit-learn's
``-score_samples`` (about 0.5 for typical rows, towards 1 for rows isolated quickly); it is
normalised so that the healthy median maps to 0 and the ``1 - alpha`` quantile of the healthy
rows (the control limit) to 1.

An isolation tree splits only inside the range it was grown on, so every row beyond the
healthy envelope looks like the most extreme healthy rows: the score saturates. The
detector therefore also scores the distance outside the healthy min-max envelope, one healthy
standard deviation beyond it counting as the limit, and takes the larger of the two.

A row's explanation: how much its raw score falls when one
signal at a time is set back to its healthy median (a leave-one-signal-out attribution).
"""

from __future__ import annotations

import numpy as np
from sklearn.ensemble import IsolationForest

from plantwin.analytics.anomaly.detector import (
    DetectorError,
    FloatArray,
    Scored,
    check_rows,
    share,
    spread,
)


class IsolationForestDetector:
    """Isolation forest with a limit at the ``1 - alpha`` quantile of the healthy scores.

    Args:
        trees: number of isolation trees.
        alpha: share of healthy rows above the limit.
        seed: seeds the forest, so the same data give the same scores.
        max_rows: most healthy rows used to grow the trees (each tree sees 256 of them).
    """

    def __init__(
        self, *, trees: int = 100, alpha: float = 0.01, seed: int = 0, max_rows: int = 20_000
    ) -> None:
        if not 0.0 < alpha < 1.0:
            raise DetectorError(f"alpha must be in (0, 1), got {alpha}")
        self.trees = trees
        self.alpha = alpha
        self.seed = seed
        self.max_rows = max_rows
        self.width: int | None = None
        self._forest: IsolationForest | None = None
        self._mean = np.zeros(0)
        self._std = np.zeros(0)
        self._centre = np.zeros(0)  # healthy median, in standard units
        self._median = 0.0
        self._limit = 1.0
        self._low = np.zeros(0)  # healthy envelope, standard units
        self._high = np.zeros(0)

    def fit(self, healthy: FloatArray) -> None:
        rows = check_rows(healthy, None, "healthy rows")
        if len(rows) < 50:
            raise DetectorError(f"healthy rows: {len(rows)} rows, the isolation forest needs 50")
        rng = np.random.default_rng(self.seed)
        if len(rows) > self.max_rows:
            rows = rows[np.sort(rng.choice(len(rows), self.max_rows, replace=False))]
        self._mean, self._std = spread(rows)
        z = (rows - self._mean) / self._std
        self._forest = IsolationForest(n_estimators=self.trees, random_state=self.seed).fit(z)
        raw = -self._forest.score_samples(z)
        self._centre = np.median(z, axis=0)
        self._low, self._high = z.min(axis=0), z.max(axis=0)
        self._median = float(np.median(raw))
        self._limit = max(float(np.quantile(raw, 1.0 - self.alpha)), self._median + 1e-9)
        self.width = rows.shape[1]

    def score(self, rows: FloatArray) -> Scored:
        if self._forest is None or self.width is None:
            raise DetectorError("the isolation forest is not fitted")
        z = (check_rows(rows, self.width, "rows to score") - self._mean) / self._std
        n, p = z.shape
        if not n:  # scikit-learn refuses to score no rows
            return Scored(score=np.zeros(0), contributions=np.zeros((0, p)))
        # One call for the rows and their p leave-one-signal-out copies: far cheaper than p+1.
        variants = np.repeat(z[None, :, :], p + 1, axis=0)
        for j in range(p):
            variants[j + 1, :, j] = self._centre[j]
        raw = -self._forest.score_samples(variants.reshape(-1, p)).reshape(p + 1, n)
        forest = np.maximum(raw[0] - self._median, 0.0) / (self._limit - self._median)
        drops = (raw[0][None, :] - raw[1:]).T  # (n, p): score lost without signal j
        outside = np.maximum(z - self._high, 0.0) + np.maximum(self._low - z, 0.0)
        envelope = outside.max(axis=1) if p else np.zeros(n)
        score = np.maximum(forest, envelope)
        weights = np.where((envelope > forest)[:, None], outside, drops)
        return Scored(score=score, contributions=share(weights, score))

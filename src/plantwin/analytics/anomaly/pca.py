"""PCA with Hotelling's T² and the squared prediction error (SPE, Q), the classic
multivariate statistical process monitoring detector (Jackson & Mudholkar 1979,
MacGregor & Kourti 1995).

Signals are standardised on the healthy rows; the principal components keeping ``variance``
of the healthy variance span the normal operating space. T² measures how far a row lies
inside that space, SPE how far it lies off it (a broken correlation). The score of a row is
the larger of T²/limit and SPE/limit, so a score above 1 is outside either limit.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from scipy import stats

from plantwin.analytics.anomaly.detector import (
    DetectorError,
    FloatArray,
    Scored,
    check_rows,
    share,
    spread,
)

Limits = Literal["theory", "empirical"]


class PcaT2Spe:
    """PCA detector with T² and SPE control limits at confidence ``1 - alpha``.

    Args:
        variance: share of the healthy variance the kept components explain (0.9-0.95 usual).
        alpha: false-alarm probability of each limit on healthy data.
        limits: ``theory``: T² from the F distribution, SPE from Jackson-Mudholkar (both
            assume roughly Gaussian rows); ``empirical``: the 1 - alpha quantiles of the
            statistics on the healthy rows (any distribution, needs many rows).
    """

    def __init__(
        self, *, variance: float = 0.9, alpha: float = 0.01, limits: Limits = "theory"
    ) -> None:
        if not 0.0 < variance <= 1.0:
            raise DetectorError(f"variance must be in (0, 1], got {variance}")
        if not 0.0 < alpha < 1.0:
            raise DetectorError(f"alpha must be in (0, 1), got {alpha}")
        self.variance = variance
        self.alpha = alpha
        self.limits = limits
        self.width: int | None = None
        self.components = 0
        self.t2_limit = 1.0
        self.spe_limit = 1.0
        self._mean = np.zeros(0)
        self._std = np.zeros(0)
        self._loadings = np.zeros((0, 0))  # (p, k)
        self._eigen = np.zeros(0)  # (k,) variances of the kept scores

    def fit(self, healthy: FloatArray) -> None:
        rows = check_rows(healthy, None, "healthy rows")
        n, p = rows.shape
        if n < max(10, 2 * p):
            raise DetectorError(
                f"healthy rows: {n} rows for {p} signals, need at least {max(10, 2 * p)}"
            )
        self._mean, self._std = spread(rows)
        z = (rows - self._mean) / self._std
        _, singular, vt = np.linalg.svd(z / np.sqrt(n - 1), full_matrices=False)
        eigen = singular**2
        explained = np.cumsum(eigen) / eigen.sum()
        k = int(np.searchsorted(explained, self.variance - 1e-12) + 1)
        k = max(1, min(k, p - 1)) if p > 1 else 1
        self.width, self.components = p, k
        self._loadings = vt[:k].T
        self._eigen = np.maximum(eigen[:k], 1e-12)
        t2, spe, _, _ = self._statistics(z)
        if self.limits == "empirical":
            self.t2_limit = float(np.quantile(t2, 1.0 - self.alpha))
            self.spe_limit = float(np.quantile(spe, 1.0 - self.alpha))
        else:
            self.t2_limit = _t2_limit(n, k, self.alpha)
            self.spe_limit = _spe_limit(eigen[k:], self.alpha, spe)
        self.t2_limit = max(self.t2_limit, 1e-12)
        self.spe_limit = max(self.spe_limit, 1e-12)

    def score(self, rows: FloatArray) -> Scored:
        if self.width is None:
            raise DetectorError("the PCA detector is not fitted")
        z = (check_rows(rows, self.width, "rows to score") - self._mean) / self._std
        t2, spe, scores, residual = self._statistics(z)
        t2_ratio, spe_ratio = t2 / self.t2_limit, spe / self.spe_limit
        score = np.maximum(t2_ratio, spe_ratio)
        # T² contribution of signal j: z_j · Σ_a p_ja t_a / λ_a (sums to T²); SPE: residual².
        t2_parts = z * ((scores / self._eigen) @ self._loadings.T)
        weights = np.where((t2_ratio >= spe_ratio)[:, None], t2_parts, residual**2)
        return Scored(score=score, contributions=share(weights, score))

    def _statistics(self, z: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
        """T², SPE, and the scores and residuals they come from."""
        scores = z @ self._loadings
        t2 = np.sum(scores**2 / self._eigen, axis=1)
        residual = z - scores @ self._loadings.T
        return t2, np.sum(residual**2, axis=1), scores, residual


def _t2_limit(n: int, k: int, alpha: float) -> float:
    """Hotelling's T² limit for a new observation: k(n²-1)/(n(n-k)) · F(1-alpha; k, n-k)."""
    f = float(stats.f.ppf(1.0 - alpha, k, n - k))
    return k * (n * n - 1) / (n * (n - k)) * f


def _spe_limit(residual_eigen: FloatArray, alpha: float, spe: FloatArray) -> float:
    """Jackson-Mudholkar limit from the discarded eigenvalues; the empirical quantile when
    the approximation does not apply (no residual variance, h0 <= 0)."""
    theta = [float(np.sum(residual_eigen**i)) for i in (1, 2, 3)]
    if theta[0] <= 1e-12 or theta[1] <= 0.0:
        return float(np.quantile(spe, 1.0 - alpha))
    h0 = 1.0 - 2.0 * theta[0] * theta[2] / (3.0 * theta[1] ** 2)
    if h0 <= 0.0:
        return float(np.quantile(spe, 1.0 - alpha))
    c = float(stats.norm.ppf(1.0 - alpha))
    inner = (
        c * np.sqrt(2.0 * theta[1] * h0**2) / theta[0]
        + 1.0
        + theta[1] * h0 * (h0 - 1.0) / theta[0] ** 2
    )
    return float(theta[0] * inner ** (1.0 / h0))

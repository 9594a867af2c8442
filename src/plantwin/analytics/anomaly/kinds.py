"""The detector kinds a health signal names (plant file ``detector:``), as the live twin
builds them: every limit empirical (the 0.99 quantile on the healthy rows), since real rows
are neither Gaussian nor independent.

- ``pca``: PCA T² and SPE, components keeping 90 % of the healthy variance, row by row;
- ``pca-ewma``: the same on EWMA-smoothed rows (:mod:`.smoothed`);
- ``mewma``: a multivariate EWMA (Lowry et al. 1992) weighting every direction by its own
  smoothed variance: PCA keeping all components, the smallest one as SPE. Small faults live
  in the low-variance directions the 90 % cut leaves to SPE, where the residual of the
  other discarded directions drowns them (a 5 % current offset breaks the current-power
  relation by less than that residual's spread);
- ``iforest``, ``iforest-ewma``: the isolation forest on the rows, on smoothed rows.
"""

from __future__ import annotations

from collections.abc import Callable

from plantwin.analytics.anomaly.detector import Detector
from plantwin.analytics.anomaly.iforest import IsolationForestDetector
from plantwin.analytics.anomaly.pca import PcaT2Spe
from plantwin.analytics.anomaly.smoothed import Smoothed

ALL_COMPONENTS = 1.0  # PcaT2Spe keeps all components but one (the SPE)

KINDS: dict[str, Callable[[int], Detector]] = {
    "pca": lambda seed: PcaT2Spe(limits="empirical"),
    "pca-ewma": lambda seed: Smoothed(PcaT2Spe(limits="empirical")),
    "mewma": lambda seed: Smoothed(PcaT2Spe(variance=ALL_COMPONENTS, limits="empirical")),
    "iforest": lambda seed: IsolationForestDetector(seed=seed),
    "iforest-ewma": lambda seed: Smoothed(IsolationForestDetector(seed=seed)),
}


def detector_of(kind: str, seed: int) -> Detector:
    """A new, unfitted detector of a kind in :data:`KINDS` (KeyError for any other)."""
    return KINDS[kind](seed)

"""Adaptation to slow drift that does not learn a developing fault as normal.

``Adaptive`` wraps any detector and re-centres its input: rows are scored as
``row - offset``, and after each batch the offset follows the mean of the rows that scored
healthy (below ``gate`` times the limit) by an exponentially weighted step. Two brakes
keep a fault from being absorbed:

- only rows inside the limit move the offset, so a flagged row never does (a lower
  ``gate`` is stricter but biases the followed mean towards the old centre, and can stall);
- the offset moves at most ``max_step`` healthy standard deviations per row, per signal.
  Slow benign drift (sensor ageing, seasons) is slower than this and is followed; a
  developing fault grows faster, outruns the offset and is flagged.

Only the centre adapts, not the correlation structure: slow drift moves levels, while a
change of correlation is exactly what the SPE statistic should keep seeing.
"""

from __future__ import annotations

import numpy as np

from plantwin.analytics.anomaly.detector import (
    Detector,
    DetectorError,
    FloatArray,
    Scored,
    check_rows,
    spread,
)


class Adaptive:
    """A detector whose centre follows slow drift.

    Args:
        inner: the detector to wrap (fitted by :meth:`fit`).
        halflife: rows after which a step change seen only in healthy rows is half followed
            (if the rate cap allows).
        max_step: most the centre moves per row, in healthy standard deviations per signal.
        gate: rows with a score below this share of the limit update the centre.
    """

    def __init__(
        self,
        inner: Detector,
        *,
        halflife: float = 3600.0,
        max_step: float = 1e-4,
        gate: float = 1.0,
    ) -> None:
        if halflife <= 0 or max_step < 0 or not 0.0 < gate <= 1.0:
            raise DetectorError("Adaptive needs halflife > 0, max_step >= 0 and 0 < gate <= 1")
        self.inner = inner
        self.decay = 0.5 ** (1.0 / halflife)  # per row
        self.max_step = max_step
        self.gate = gate
        self.offset = np.zeros(0)
        self._centre = np.zeros(0)
        self._std = np.zeros(0)

    def fit(self, healthy: FloatArray) -> None:
        rows = check_rows(healthy, None, "healthy rows")
        self.inner.fit(rows)
        self._centre, self._std = spread(rows)
        self.offset = np.zeros(rows.shape[1])

    def score(self, rows: FloatArray) -> Scored:
        """Score with the current centre, then let the clearly healthy rows move it."""
        matrix = check_rows(rows, len(self.offset), "rows to score")
        scored = self.inner.score(matrix - self.offset)
        calm = matrix[scored.score < self.gate]
        if len(calm):
            weight = 1.0 - self.decay ** len(calm)
            target = calm.sum(axis=0) / len(calm) - self._centre  # the mean, less overhead
            cap = self.max_step * self._std * len(calm)
            # np.clip's argument handling costs more than the arithmetic on a few columns
            step = np.minimum(np.maximum(weight * (target - self.offset), -cap), cap)
            self.offset = self.offset + step
        return scored

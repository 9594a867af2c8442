"""Health scores 0-100 from detector scores, per asset and per component.

``health = 100 / (1 + s²)`` with ``s`` the score normalised to the control limit: 100 at the
healthy centre, 50 exactly at the limit, 20 at twice it, 10 at three times; monotone, so a rule
``health below 50`` alarms where the detector flags. A component's health uses the part of the
score its own signals contribute (contributions sum to the score).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from plantwin.analytics.anomaly.detector import FloatArray, Scored

AT_LIMIT = 50.0  # health of a row exactly at the control limit


def health(score: FloatArray) -> FloatArray:
    """Health 0-100 of normalised scores (1.0 = the control limit -> 50)."""
    s = np.maximum(np.asarray(score, dtype=np.float64), 0.0)
    return 100.0 / (1.0 + s * s)


def component_health(scored: Scored, groups: Mapping[str, Sequence[int]]) -> dict[str, FloatArray]:
    """Health per named group of signal columns (a component's signals)."""
    return {
        name: health(scored.contributions[:, list(cols)].sum(axis=1))
        for name, cols in groups.items()
    }

"""Streaming anomaly detection: detectors fitted on a healthy period, health scores 0-100.

Detectors share one small protocol (:class:`Detector`: ``fit`` on healthy rows, ``score``
rows into a normalised score and per-signal contributions): :class:`PcaT2Spe` (multivariate
statistical), :class:`IsolationForestDetector` (learned); :class:`Adaptive` lets either follow
slow drift without learning a developing fault; :class:`Smoothed` scores EWMA-smoothed rows
(small persistent shifts). :mod:`.evaluation` scores labelled files.
"""

from plantwin.analytics.anomaly.detector import Detector, DetectorError, Scored
from plantwin.analytics.anomaly.drift import Adaptive
from plantwin.analytics.anomaly.health import AT_LIMIT, component_health, health
from plantwin.analytics.anomaly.iforest import IsolationForestDetector
from plantwin.analytics.anomaly.pca import PcaT2Spe
from plantwin.analytics.anomaly.smoothed import Smoothed

__all__ = [
    "AT_LIMIT",
    "Adaptive",
    "Detector",
    "DetectorError",
    "IsolationForestDetector",
    "PcaT2Spe",
    "Scored",
    "Smoothed",
    "component_health",
    "health",
]

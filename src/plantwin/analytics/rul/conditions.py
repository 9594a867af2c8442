"""Operating-condition normalisation: find the discrete operating conditions in the settings
columns, then standardise every sensor with the mean and spread of its own condition, so a
sensor's drift from wear is not hidden by the much larger jumps between conditions."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.cluster import KMeans

from plantwin.analytics.rul.data import FloatArray, IntArray

MAX_CONDITIONS = 10
# k conditions are accepted once the clusters hold less than this share of the settings'
# variance: real operating points (altitude, Mach, throttle) are far apart, jitter is tiny.
RESIDUAL_SHARE = 0.01
MIN_DISTINCT = 3  # a sensor with fewer values in every condition carries no trend


@dataclass(frozen=True, slots=True, kw_only=True)
class ConditionNormaliser:
    """Condition centres and per-condition sensor statistics learned from training rows."""

    centres: FloatArray  # (k, settings), in standardised settings units
    settings_mean: FloatArray
    settings_scale: FloatArray
    sensor_mean: FloatArray  # (k, sensors)
    sensor_scale: FloatArray  # (k, sensors)
    kept: IntArray  # indexes of the sensors that vary

    @property
    def conditions(self) -> int:
        return len(self.centres)

    def condition(self, settings: FloatArray) -> IntArray:
        """The nearest learned condition of every row."""
        z = (settings - self.settings_mean) / self.settings_scale
        distance = ((z[:, None, :] - self.centres[None, :, :]) ** 2).sum(axis=2)
        return np.asarray(distance.argmin(axis=1), dtype=np.int64)

    def transform(self, settings: FloatArray, sensors: FloatArray) -> FloatArray:
        """Sensors standardised per condition, informative columns only."""
        label = self.condition(settings)
        z = (sensors - self.sensor_mean[label]) / self.sensor_scale[label]
        return np.asarray(z[:, self.kept], dtype=np.float64)


def fit_normaliser(settings: FloatArray, sensors: FloatArray, *, seed: int) -> ConditionNormaliser:
    """Cluster the settings with the fewest conditions that explain them, then learn each
    condition's sensor statistics."""
    mean = settings.mean(axis=0)
    scale = settings.std(axis=0)
    scale[scale == 0] = 1.0
    z = (settings - mean) / scale
    centres, label = _cluster(z, seed=seed)
    k = len(centres)
    sensor_mean = np.zeros((k, sensors.shape[1]))
    sensor_scale = np.ones((k, sensors.shape[1]))
    varies = np.zeros(sensors.shape[1], dtype=bool)
    for c in range(k):
        rows = sensors[label == c]
        sensor_mean[c] = rows.mean(axis=0)
        spread = rows.std(axis=0)
        sensor_scale[c] = np.where(spread > 0, spread, 1.0)
        varies |= np.array([len(np.unique(column)) >= MIN_DISTINCT for column in rows.T])
    return ConditionNormaliser(
        centres=centres,
        settings_mean=mean,
        settings_scale=scale,
        sensor_mean=sensor_mean,
        sensor_scale=sensor_scale,
        kept=np.flatnonzero(varies).astype(np.int64),
    )


def _cluster(z: FloatArray, *, seed: int) -> tuple[FloatArray, IntArray]:
    total = float(((z - z.mean(axis=0)) ** 2).sum()) or 1.0
    for k in range(2, MAX_CONDITIONS + 1):
        model = KMeans(n_clusters=k, n_init=4, random_state=seed).fit(z)
        if model.inertia_ / total < RESIDUAL_SHARE:
            centres = np.asarray(model.cluster_centers_, dtype=np.float64)
            return centres, np.asarray(model.labels_, dtype=np.int64)
    # No clear operating points (one condition with jitter): one condition.
    return z.mean(axis=0, keepdims=True), np.zeros(len(z), dtype=np.int64)

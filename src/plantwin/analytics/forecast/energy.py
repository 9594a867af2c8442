"""Hourly energy demand of a site meter, forecast a few hours ahead with intervals.

Two forecasters share one interface (``fit`` on hourly history, ``forecast`` from an origin):
a seasonal-naive baseline (the same hour yesterday, with the empirical quantiles of its
training errors as the interval) and LightGBM quantile regression on the hour of the day
in site time and recent consumption, one model per quantile pooled over the horizons.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import lightgbm as lgb
import numpy as np

from plantwin.analytics.history import FloatArray, HistoryError, IntArray, Series

NS_PER_H = 3_600_000_000_000
SEASON = 24  # hours: the site's daily pattern
QUANTILES = (0.1, 0.5, 0.9)  # an 80 % interval around the median


@dataclass(frozen=True, slots=True, kw_only=True)
class Hourly:
    """Energy per hour (kWh) of the hours starting at ``start_ns``, and their local hour."""

    start_ns: IntArray
    kwh: FloatArray
    hour: FloatArray  # hour of the day in site time, 0-23

    def __len__(self) -> int:
        return len(self.kwh)


@dataclass(frozen=True, slots=True, kw_only=True)
class Forecast:
    """For each horizon 1..H: the hour's start, the median and the interval bounds, kWh."""

    start_ns: IntArray
    median: FloatArray
    low: FloatArray
    high: FloatArray


def hourly(counter: Series, zone: ZoneInfo, *, start_ns: int, end_ns: int) -> Hourly:
    """Whole hours of an energy counter (kWh) in ``[start_ns, end_ns)``, from its readings."""
    if not len(counter):
        raise HistoryError("the energy counter has no reading")
    begin = max(start_ns, int(counter.ts[0]))
    first = -(-begin // NS_PER_H) * NS_PER_H
    edges = np.arange(first, end_ns + 1, NS_PER_H, dtype=np.int64)
    if len(edges) < 2:
        raise HistoryError("the energy history holds no whole hour")
    at = counter.asof(edges)
    starts = edges[:-1]
    return Hourly(start_ns=starts, kwh=np.diff(at), hour=_local_hour(starts, zone))


def _local_hour(ts_ns: IntArray, zone: ZoneInfo) -> FloatArray:
    return np.array(
        [datetime.fromtimestamp(int(t) // 10**9, UTC).astimezone(zone).hour for t in ts_ns],
        dtype=np.float64,
    )


class SeasonalNaive:
    """The same hour yesterday; the interval from the quantiles of its errors in training."""

    name = "seasonal-naive"

    def __init__(self, horizon: int) -> None:
        self.horizon = horizon
        self.offsets = np.zeros(2)

    def fit(self, data: Hourly) -> None:
        if len(data) <= SEASON + self.horizon:
            raise HistoryError(f"{len(data)} hours of history; need more than a day")
        errors = data.kwh[SEASON:] - data.kwh[:-SEASON]
        self.offsets = np.quantile(errors, [QUANTILES[0], QUANTILES[-1]])

    def forecast(self, data: Hourly, origin: int) -> Forecast:
        """Forecast the ``horizon`` hours after hour index ``origin`` (its value is known)."""
        target = np.arange(origin + 1, origin + 1 + self.horizon)
        median = data.kwh[target - SEASON]
        return Forecast(
            start_ns=_starts(data, origin, self.horizon),
            median=median,
            low=median + self.offsets[0],
            high=median + self.offsets[1],
        )


@dataclass(slots=True)
class QuantileBoost:
    """LightGBM quantile regression, one model per quantile, the horizon as a feature.

    Quantile models fitted in-sample make intervals too narrow (60 % coverage for a
    nominal 80 % on the demo), so the interval is conformalised (CQR, Romano et al. 2019):
    the models learn on the first ``1 - calibration`` of the history and the interval
    widens by the error quantile the last part shows them.
    """

    horizon: int
    seed: int = 0
    calibration: float = 0.3
    name: str = "lightgbm-quantile"
    widen: float = 0.0
    models: list[lgb.LGBMRegressor] = field(default_factory=list)
    features: Sequence[str] = (
        "horizon",
        "target_hour",
        "last",
        "previous",
        "same_hour_yesterday",
        "mean_24h",
    )

    def fit(self, data: Hourly) -> None:
        origins = np.arange(SEASON, len(data) - self.horizon)
        if not len(origins):
            raise HistoryError(f"{len(data)} hours of history; need more than a day")
        cut = int(len(origins) * (1.0 - self.calibration))
        x, y = self._table(data, origins[:cut])
        self.models = []
        for q in QUANTILES:
            model = lgb.LGBMRegressor(
                objective="quantile",
                alpha=q,
                n_estimators=300,
                learning_rate=0.05,
                num_leaves=15,
                min_child_samples=20,
                random_state=self.seed,
                n_jobs=1,
                deterministic=True,
                verbose=-1,
            )
            model.fit(x, y)
            self.models.append(model)
        x_cal, y_cal = self._table(data, origins[cut:])
        low, high = self.models[0].predict(x_cal), self.models[-1].predict(x_cal)
        miss = np.maximum(low - y_cal, y_cal - high)
        level = min(1.0, (QUANTILES[-1] - QUANTILES[0]) * (1.0 + 1.0 / len(miss)))
        self.widen = float(np.quantile(miss, level))

    def _table(self, data: Hourly, origins: IntArray) -> tuple[FloatArray, FloatArray]:
        x = np.vstack([self._rows(data, int(o)) for o in origins])
        y = np.concatenate([data.kwh[o + 1 : o + 1 + self.horizon] for o in origins])
        return x, y

    def forecast(self, data: Hourly, origin: int) -> Forecast:
        x = self._rows(data, origin)
        low, median, high = (np.asarray(m.predict(x), dtype=np.float64) for m in self.models)
        # quantile models fitted apart can cross; sort so low <= median <= high
        low, median, high = np.sort(np.vstack([low, median, high]), axis=0)
        low, high = low - self.widen, high + self.widen
        return Forecast(
            start_ns=_starts(data, origin, self.horizon), median=median, low=low, high=high
        )

    def _rows(self, data: Hourly, origin: int) -> FloatArray:
        """Feature rows of the horizons 1..H from hour ``origin`` (needs a day before it)."""
        h = np.arange(1, self.horizon + 1)
        kwh = data.kwh
        target_hour = (data.hour[origin] + h) % 24
        yesterday = kwh[np.minimum(origin + h - SEASON, origin)]
        n = len(h)
        return np.column_stack(
            [
                h.astype(np.float64),
                target_hour,
                np.full(n, kwh[origin]),
                np.full(n, kwh[origin - 1]),
                yesterday,
                np.full(n, kwh[origin - SEASON + 1 : origin + 1].mean()),
            ]
        )


def _starts(data: Hourly, origin: int, horizon: int) -> IntArray:
    steps = np.arange(1, horizon + 1, dtype=np.int64)
    return np.asarray(data.start_ns[origin] + NS_PER_H * steps, dtype=np.int64)

"""Rolling-origin backtest: forecast from every hour of a held-out history, score each horizon."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Protocol

import numpy as np

from plantwin.analytics.forecast.energy import SEASON, Forecast, Hourly


class Forecaster(Protocol):
    name: str
    horizon: int

    def fit(self, data: Hourly) -> None: ...

    def forecast(self, data: Hourly, origin: int) -> Forecast: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class BacktestScores:
    name: str
    origins: int
    mae_kwh: float
    mape_percent: float
    coverage: float  # share of actual hours inside the 80 % interval
    width_kwh: float  # mean interval width
    mae_by_horizon: list[float]

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def backtest(model: Forecaster, data: Hourly) -> BacktestScores:
    """Forecast from each origin with a day before it and ``horizon`` hours after it."""
    h = model.horizon
    origins = range(SEASON, len(data) - h)
    errors, actuals, inside, widths = [], [], [], []
    for origin in origins:
        f = model.forecast(data, origin)
        actual = data.kwh[origin + 1 : origin + 1 + h]
        errors.append(np.abs(f.median - actual))
        actuals.append(actual)
        inside.append((f.low <= actual) & (actual <= f.high))
        widths.append(f.high - f.low)
    err = np.vstack(errors)
    act = np.vstack(actuals)
    return BacktestScores(
        name=model.name,
        origins=len(origins),
        mae_kwh=float(err.mean()),
        mape_percent=float(100.0 * (err / np.abs(act)).mean()),
        coverage=float(np.vstack(inside).mean()),
        width_kwh=float(np.vstack(widths).mean()),
        mae_by_horizon=[float(v) for v in err.mean(axis=0)],
    )

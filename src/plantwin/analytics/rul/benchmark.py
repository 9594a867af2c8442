"""The C-MAPSS benchmark: train on train_FDxxx, predict the last cycle of each test engine,
score against the RUL file in both conventions (raw, and true RUL capped like the target)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from plantwin.analytics.rul.data import load_subset
from plantwin.analytics.rul.metrics import coverage, phm08_score, rmse
from plantwin.analytics.rul.model import RulModel, RulSettings


@dataclass(frozen=True, slots=True, kw_only=True)
class CmapssResult:
    """Figures of one benchmark run; `*_capped` compare with min(true RUL, cap)."""

    subset: str
    engines: int
    conditions: int
    sensors: int
    rmse: float
    score: float
    rmse_capped: float
    score_capped: float
    coverage: float
    coverage_capped: float
    quantiles: tuple[float, float]
    seconds: float

    def as_json(self) -> dict[str, float | int | str]:
        return {
            "subset": self.subset,
            "engines": self.engines,
            "rmse": round(self.rmse, 3),
            "score": round(self.score, 1),
            "rmse_capped": round(self.rmse_capped, 3),
            "score_capped": round(self.score_capped, 1),
            "coverage": round(self.coverage, 3),
            "coverage_capped": round(self.coverage_capped, 3),
            "seconds": round(self.seconds, 1),
        }


def run_cmapss(
    directory: Path, subset: str, *, seed: int = 0, settings: RulSettings | None = None
) -> CmapssResult:
    """Load, train, predict and score; `seconds` covers all of it."""
    started = time.perf_counter()
    data = load_subset(directory, subset)
    model = RulModel(settings=settings or RulSettings(), seed=seed).fit(data.train)
    prediction = model.predict(data.test)
    last = data.test.last_rows()
    point, lower, upper = prediction.rul[last], prediction.lower[last], prediction.upper[last]
    true = data.true_rul
    capped = np.minimum(true, model.settings.cap)
    return CmapssResult(
        subset=data.name,
        engines=len(last),
        conditions=model.conditions,
        sensors=model.sensors,
        rmse=rmse(point, true),
        score=phm08_score(point, true),
        rmse_capped=rmse(point, capped),
        score_capped=phm08_score(point, capped),
        coverage=coverage(lower, upper, true),
        coverage_capped=coverage(lower, upper, capped),
        quantiles=model.settings.quantiles,
        seconds=time.perf_counter() - started,
    )

"""The RUL model: condition normalisation, windowed features, a gradient-boosted point model
and two quantile models for the prediction interval."""

from __future__ import annotations

from dataclasses import dataclass, field

import lightgbm as lgb
import numpy as np

from plantwin.analytics.rul.conditions import ConditionNormaliser, fit_normaliser
from plantwin.analytics.rul.data import FloatArray, Runs
from plantwin.analytics.rul.features import RUL_CAP, piecewise_target, window_features


@dataclass(frozen=True, slots=True, kw_only=True)
class RulSettings:
    """Hyperparameters, chosen once by validation on held-out training engines of FD001
    (docs/operations.md) and used unchanged for every subset."""

    cap: float = RUL_CAP
    quantiles: tuple[float, float] = (0.1, 0.9)
    trees: int = 600
    learning_rate: float = 0.02
    leaves: int = 15
    min_rows: int = 40
    subsample: float = 0.8
    colsample: float = 0.5
    threads: int = 2


@dataclass(frozen=True, slots=True, kw_only=True)
class RulPrediction:
    """Point prediction and interval per row, in cycles."""

    rul: FloatArray
    lower: FloatArray
    upper: FloatArray


@dataclass(slots=True, kw_only=True)
class RulModel:
    """Trained on run-to-failure engines; predicts capped RUL of any cycle of any engine."""

    settings: RulSettings = field(default_factory=RulSettings)
    seed: int = 0
    _normaliser: ConditionNormaliser | None = field(default=None, init=False)
    _models: list[lgb.LGBMRegressor] = field(default_factory=list, init=False)

    def fit(self, runs: Runs) -> RulModel:
        self._normaliser = fit_normaliser(runs.settings, runs.sensors, seed=self.seed)
        x = self._features(runs)
        y = piecewise_target(runs.unit, runs.cycle, cap=self.settings.cap)
        low, high = self.settings.quantiles
        self._models = [
            self._booster("regression", 0.5).fit(x, y),
            self._booster("quantile", low).fit(x, y),
            self._booster("quantile", high).fit(x, y),
        ]
        return self

    def predict(self, runs: Runs) -> RulPrediction:
        x = self._features(runs)
        point, low, high = (np.asarray(m.predict(x), dtype=np.float64) for m in self._models)
        point = np.clip(point, 0.0, self.settings.cap)
        # Quantile models are fitted apart, so order the bounds and keep the point inside.
        return RulPrediction(
            rul=point,
            lower=np.clip(np.minimum(low, point), 0.0, None),
            upper=np.maximum(high, point),
        )

    @property
    def conditions(self) -> int:
        return self._normaliser.conditions if self._normaliser else 0

    @property
    def sensors(self) -> int:
        """Number of sensors kept (those that vary in training)."""
        return len(self._normaliser.kept) if self._normaliser else 0

    def _features(self, runs: Runs) -> FloatArray:
        if self._normaliser is None:
            raise RuntimeError("RulModel.predict before fit")
        z = self._normaliser.transform(runs.settings, runs.sensors)
        return window_features(runs.unit, runs.cycle, z)

    def _booster(self, objective: str, alpha: float) -> lgb.LGBMRegressor:
        s = self.settings
        return lgb.LGBMRegressor(
            n_estimators=s.trees,
            learning_rate=s.learning_rate,
            num_leaves=s.leaves,
            min_child_samples=s.min_rows,
            subsample=s.subsample,
            subsample_freq=1,
            colsample_bytree=s.colsample,
            random_state=self.seed,
            n_jobs=s.threads,
            verbose=-1,
            objective=objective,
            alpha=alpha,  # the quantile; unused by "regression"
        )

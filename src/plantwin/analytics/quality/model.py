"""A calibrated scrap classifier: gradient-boosted trees, probabilities calibrated by isotonic
regression on held-out folds, so 0.3 means about three parts in ten fail inspection."""

from __future__ import annotations

from dataclasses import dataclass

import lightgbm as lgb
import numpy as np
from sklearn.calibration import CalibratedClassifierCV

from plantwin.analytics.history import BoolArray, FloatArray, HistoryError

FOLDS = 3  # calibration folds; each must hold some scrap (about 1 % of parts)


@dataclass(slots=True)
class ScrapModel:
    """Fitted model over the feature columns named in ``names``."""

    names: list[str]
    model: CalibratedClassifierCV

    def probability(self, x: FloatArray) -> FloatArray:
        """Probability of scrap for each row of features."""
        return np.asarray(self.model.predict_proba(np.asarray(x, float))[:, 1], dtype=np.float64)


def fit_scrap_model(x: FloatArray, scrap: BoolArray, names: list[str], *, seed: int) -> ScrapModel:
    """Fit on parts' features and verdicts; needs at least ``FOLDS`` scrapped parts."""
    if int(scrap.sum()) < FOLDS * 2:
        msg = f"{int(scrap.sum())} scrapped parts in the training history; need {FOLDS * 2}"
        raise HistoryError(msg)
    trees = lgb.LGBMClassifier(
        n_estimators=200,
        learning_rate=0.05,
        num_leaves=7,
        min_child_samples=20,
        random_state=seed,
        n_jobs=1,
        deterministic=True,
        verbose=-1,
    )
    calibrated = CalibratedClassifierCV(trees, method="isotonic", cv=FOLDS)
    calibrated.fit(np.asarray(x, float), np.asarray(scrap, bool))
    return ScrapModel(names=list(names), model=calibrated)

"""Stratified k-fold cross-validation of the per-mode classifiers on the AI4I records."""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
from sklearn.model_selection import StratifiedKFold

from plantwin.analytics.failures.data import ANY, MODES, Ai4iData, IntArray
from plantwin.analytics.failures.features import FEATURES, features
from plantwin.analytics.failures.metrics import Scores, scores
from plantwin.analytics.failures.model import fit_predict

# Failure modes that follow a deterministic physical rule of the inputs; TWF depends on a
# random replacement time, RNF is a 0.1 % coin flip, so neither is fully predictable.
PHYSICAL = ("HDF", "PWF", "OSF")


@dataclass(frozen=True, slots=True, kw_only=True)
class Evaluation:
    """Out-of-fold figures per target (the five modes and "any"), with how they were made."""

    scores: dict[str, Scores]
    folds: int
    seed: int
    records: int
    seconds: float

    def as_dict(self) -> dict[str, object]:
        return {
            "method": f"stratified {self.folds}-fold cross-validation, out-of-fold predictions",
            "model": "lightgbm, one classifier per target, balanced class weights",
            "features": list(FEATURES),
            "records": self.records,
            "folds": self.folds,
            "seed": self.seed,
            "seconds": round(self.seconds, 2),
            "modes": {name: self.scores[name].as_dict() for name in MODES},
            "any": self.scores["any"].as_dict(),
        }


def evaluate(data: Ai4iData, *, folds: int = 5, seed: int = 0) -> Evaluation:
    """Every record is predicted once, by models that never saw it.

    Folds are stratified on the first failure mode of each record (or none), so each fold
    holds its share of every rare mode; the same folds serve every target. "any" is a
    classifier of its own on the `Machine failure` column, not the OR of the modes (the
    data has 9 failures without a mode and 18 RNF rows without a failure).
    """
    if folds < 2:
        raise ValueError(f"folds must be at least 2, not {folds}")
    started = time.perf_counter()
    x = features(data)
    splits = list(
        StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed).split(x, _strata(data))
    )
    result: dict[str, Scores] = {}
    for name in (*MODES, ANY):
        truth = data.labels[name]
        predicted = np.zeros(len(truth), dtype=np.bool_)
        for train, test in splits:
            predicted[test] = fit_predict(x[train], truth[train], x[test], seed=seed)
        result["any" if name == ANY else name] = scores(truth, predicted)
    return Evaluation(
        scores=result,
        folds=folds,
        seed=seed,
        records=len(data),
        seconds=time.perf_counter() - started,
    )


def _strata(data: Ai4iData) -> IntArray:
    """0 for no mode, else 1 + the index of the record's first mode in MODES."""
    key = np.zeros(len(data), dtype=np.int64)
    for position, mode in enumerate(MODES, start=1):
        key[(key == 0) & data.labels[mode]] = position
    return key

"""Held-out figures of a scrap model against the tool-wear rule an operator would use."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from sklearn.metrics import brier_score_loss, roc_auc_score

from plantwin.analytics.history import BoolArray, FloatArray

THRESHOLD = 0.5  # warn when scrap is more likely than not (the demo plant's rule)


@dataclass(frozen=True, slots=True, kw_only=True)
class Scores:
    """ROC AUC and Brier score of a score, precision and recall of its alarm."""

    roc_auc: float
    brier: float | None  # only for probabilities
    precision: float
    recall: float
    threshold: float


@dataclass(frozen=True, slots=True, kw_only=True)
class ScrapEvaluation:
    parts: int
    scrapped: int
    model: Scores
    baseline: Scores
    baseline_rule: str

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def scores(score: FloatArray, scrap: BoolArray, *, threshold: float, probability: bool) -> Scores:
    alarm = score > threshold
    hits = int((alarm & scrap).sum())
    return Scores(
        roc_auc=float(roc_auc_score(scrap, score)),
        brier=float(brier_score_loss(scrap, score)) if probability else None,
        precision=hits / int(alarm.sum()) if alarm.any() else 0.0,
        recall=hits / int(scrap.sum()) if scrap.any() else 0.0,
        threshold=threshold,
    )


def wear_rule(x: FloatArray, wear_columns: list[int]) -> FloatArray:
    """The baseline score: the most worn tool's flank wear, mm."""
    return np.asarray(x[:, wear_columns].max(axis=1), dtype=np.float64)

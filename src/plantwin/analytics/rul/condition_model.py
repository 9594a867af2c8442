"""RUL from a condition indicator: LightGBM point model and 0.1/0.9 quantile models over the
:mod:`~plantwin.analytics.rul.condition` features, in hours, with its evaluation.

The target is the hours to the next failure, capped at ``cap_h`` (before a defect starts
growing nothing in the signal tells how long the part will last, as with C-MAPSS).

The interval is conformalised (CQR, Romano et al. 2019) with folds grouped by run: rows of
one run are nearly copies of each other, so a row-wise split would calibrate on rows whose
twins were learned. Each fold's quantile models score the runs they did not see, and the
band widens (or narrows) by the empirical ``coverage`` quantile of those scores.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import lightgbm as lgb
import numpy as np

from plantwin.analytics.rul.condition import F64, FEATURES

CAP_H = 48.0
QUANTILES = (0.1, 0.9)
BEFORE_H = (24.0, 8.0, 2.0)  # evaluation points: hours before each failure


@dataclass(frozen=True, slots=True, kw_only=True)
class ConditionRulSettings:
    """Small trees with many rows per leaf: rows of one run are strongly alike, and a few runs
    are all there is (chosen on seeds 1 and 2 of the demo, docs/analytics.md)."""

    cap_h: float = CAP_H
    trees: int = 100
    learning_rate: float = 0.05
    leaves: int = 4
    min_rows: int = 150
    threads: int = 1
    folds: int = 5  # conformal calibration: folds of whole runs (fewer runs: one per fold)


@dataclass(slots=True, kw_only=True)
class ConditionRulModel:
    """Three boosters (point, low quantile, high quantile) and what they expect."""

    features: tuple[str, ...] = FEATURES
    cap_h: float = CAP_H
    quantiles: tuple[float, float] = QUANTILES
    boosters: list[lgb.LGBMRegressor] = field(default_factory=list)
    margin_h: float = 0.0  # conformal correction of both bounds (hours; CQR)

    def predict(self, x: F64) -> tuple[F64, F64, F64]:
        """Point RUL, lower and upper bound (hours) per row; the bounds enclose the point."""
        point, low, high = (np.asarray(b.predict(x), dtype=np.float64) for b in self.boosters)
        margin = getattr(self, "margin_h", 0.0)  # models pickled before CQR have none
        point = np.clip(point, 0.0, self.cap_h)
        low, high = low - margin, high + margin
        return point, np.clip(np.minimum(low, point), 0.0, None), np.maximum(high, point)


def fit_condition_rul(
    x: F64,
    y: F64,
    *,
    runs: np.ndarray | None = None,
    seed: int = 0,
    settings: ConditionRulSettings | None = None,
) -> ConditionRulModel:
    """Fit the three boosters on all rows; with ``runs`` (a run id per row) and at least two
    runs ending below the cap, calibrate the interval on them (:func:`conformal_margin`)."""
    s = settings or ConditionRulSettings()

    def booster(objective: str, alpha: float) -> lgb.LGBMRegressor:
        return lgb.LGBMRegressor(
            n_estimators=s.trees,
            learning_rate=s.learning_rate,
            num_leaves=s.leaves,
            min_child_samples=s.min_rows,
            subsample=0.8,
            subsample_freq=1,
            random_state=seed,
            n_jobs=s.threads,
            verbose=-1,
            objective=objective,
            alpha=alpha,
        )

    target = np.minimum(y, s.cap_h)
    low, high = QUANTILES

    def band(rows: np.ndarray) -> list[lgb.LGBMRegressor]:
        return [booster("quantile", q).fit(x[rows], target[rows]) for q in (low, high)]

    margin = 0.0
    if runs is not None:
        margin = conformal_margin(band, x, target, runs, cap_h=s.cap_h, folds=s.folds)
    everything = np.ones(len(target), np.bool_)
    boosters = [booster("regression", 0.5).fit(x, target), *band(everything)]
    return ConditionRulModel(cap_h=s.cap_h, boosters=boosters, margin_h=margin)


def conformal_margin(
    band: Callable[[np.ndarray], list[lgb.LGBMRegressor]],
    x: F64,
    target: F64,
    runs: np.ndarray,
    *,
    cap_h: float,
    folds: int,
) -> float:
    """How far to move both bounds so that the nominal share (0.9 - 0.1) of rows of unseen
    runs is covered: the CQR scores ``max(low - y, y - high)`` of rows below the cap, each
    from the band fitted without its run's fold, and their finite-sample corrected quantile.
    0 with fewer than two runs reaching below the cap (nothing to hold out)."""
    below = target < cap_h
    groups = np.unique(runs[below])
    if groups.shape[0] < 2:
        return 0.0
    k = min(folds, groups.shape[0])
    at = np.minimum(np.searchsorted(groups, runs), groups.shape[0] - 1)
    row_fold = np.where(groups[at] == runs, at % k, -1)  # runs never below the cap: always fit
    scores: list[F64] = []
    for fold in range(k):
        held = row_fold == fold
        lo_model, hi_model = band(~held)
        mine = held & below
        lo = np.asarray(lo_model.predict(x[mine]), np.float64)
        hi = np.asarray(hi_model.predict(x[mine]), np.float64)
        scores.append(np.maximum(lo - target[mine], target[mine] - hi))
    e = np.concatenate(scores)
    level = min(1.0, (QUANTILES[1] - QUANTILES[0]) * (1 + 1 / e.shape[0]))
    return float(np.quantile(e, level, method="higher"))


@dataclass(frozen=True, slots=True, kw_only=True)
class RulRows:
    """Feature rows of several assets with their true hours to failure (capped, NaN never)."""

    asset: np.ndarray  # index into ``assets``
    run: np.ndarray  # per asset: failures before the row (its run), for grouped splits
    ts: np.ndarray  # ns
    x: F64
    y: F64
    failures: tuple[tuple[int, int], ...]  # (asset index, ns) of every failure seen
    assets: tuple[str, ...]

    def take(self, mask: np.ndarray) -> RulRows:
        return RulRows(
            asset=self.asset[mask], run=self.run[mask], ts=self.ts[mask], x=self.x[mask],
            y=self.y[mask], failures=self.failures, assets=self.assets,
        )  # fmt: skip

    @property
    def groups(self) -> np.ndarray:
        """One id per run of each asset (asset and run together)."""
        return np.asarray(self.asset * 1_000_000 + self.run, np.int64)


def evaluate(model: ConditionRulModel, rows: RulRows) -> dict[str, float]:
    """Held-out figures: mean absolute error of the point RUL at ``BEFORE_H`` hours before
    each failure (the asset's row nearest that moment, if one is within 15 min), and the
    share of rows with a true RUL below the cap whose interval holds it (the 0.1-0.9
    interval should hold about 80 %)."""
    point, low, high = model.predict(rows.x)
    true = np.minimum(rows.y, model.cap_h)
    out: dict[str, float] = {"rows": float(len(true))}
    for hours in BEFORE_H:
        errors = []
        for asset, failure in rows.failures:
            mine = np.flatnonzero(rows.asset == asset)
            if not mine.shape[0]:
                continue
            when = failure - hours * 3.6e12
            at = mine[int(np.argmin(np.abs(rows.ts[mine] - when)))]
            if abs(rows.ts[at] - when) < 0.25 * 3.6e12:
                errors.append(abs(point[at] - true[at]))
        if errors:
            out[f"mae_{hours:g}h"] = float(np.mean(errors))
            out[f"n_{hours:g}h"] = float(len(errors))
    below = true < model.cap_h
    if below.any():
        inside = (true[below] >= low[below]) & (true[below] <= high[below])
        out["coverage"] = float(np.mean(inside))
        out["mae"] = float(np.mean(np.abs(point[below] - true[below])))
        out["width_h"] = float(np.mean(high[below] - low[below]))
    return out

"""Training rows for condition-based RUL from run-to-failure histories in the store, and
training plus registration of a model from them.

Each asset's indicator and running signals are read a day at a time and fed through a
:class:`~plantwin.analytics.rul.condition.ConditionTracker` in steps of ``every``; a row is
taken at the end of each step inside a run. Rows of a run that ended in a failure get the
hours to it; rows of the run still open at the end only if it lasted ``cap`` hours more
(their capped RUL is known); the rest is left out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from plantwin.analytics.registry import ModelRegistry
from plantwin.analytics.rul.condition import FEATURES, NS_PER_H, ConditionTracker
from plantwin.analytics.rul.condition_model import (
    CAP_H,
    ConditionRulSettings,
    RulRows,
    evaluate,
    fit_condition_rul,
)
from plantwin.core.errors import AnalyticsError
from plantwin.core.models import ModelInfo
from plantwin.core.store import HistoryQuery, SampleStore

DAY_NS = 24 * NS_PER_H
STEP_NS = 10 * 60 * 1_000_000_000
KIND = "rul.condition-lightgbm-quantile"


@dataclass(frozen=True, slots=True, kw_only=True)
class RulInput:
    """One asset's signals: the condition indicator and the running signal (ids)."""

    asset: str
    signal: int
    running: int
    failure: float  # functional failure level of the indicator
    dt_s: float  # the indicator's sample period
    running_above: float = 0.0


async def collect_rows(
    store: SampleStore,
    inputs: Sequence[RulInput],
    start: int,
    end: int,
    *,
    step_ns: int = STEP_NS,
    cap_h: float = CAP_H,
) -> RulRows:
    parts: list[tuple[np.ndarray, ...]] = []
    failures: list[tuple[int, int]] = []
    for n, source in enumerate(inputs):
        ts, x, y, run, found = await _asset_rows(store, source, start, end, step_ns, cap_h)
        parts.append((np.full(ts.shape[0], n, np.int64), ts, x, y, run))
        failures += [(n, f) for f in found]
    return RulRows(
        asset=np.concatenate([p[0] for p in parts]),
        ts=np.concatenate([p[1] for p in parts]),
        x=np.concatenate([p[2] for p in parts]),
        y=np.concatenate([p[3] for p in parts]),
        run=np.concatenate([p[4] for p in parts]),
        failures=tuple(failures),
        assets=tuple(s.asset for s in inputs),
    )


async def _asset_rows(
    store: SampleStore, source: RulInput, start: int, end: int, step_ns: int, cap_h: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    tracker = ConditionTracker(
        failure=source.failure, dt_s=source.dt_s, running_above=source.running_above
    )
    times: list[int] = []
    rows: list[np.ndarray] = []
    runs: list[int] = []  # the run (number of failures before it) of each row
    for day in range(start, end, DAY_NS):
        stop = min(day + DAY_NS, end)
        value = await store.history(
            HistoryQuery(signal=source.signal, start=day, end=stop, limit=10_000_000)
        )
        running = await store.history(
            HistoryQuery(signal=source.running, start=day, end=stop, limit=10_000_000)
        )
        for step in range(day, stop, step_ns):
            a, b = np.searchsorted(value.ts, [step, step + step_ns])
            c, d = np.searchsorted(running.ts, [step, step + step_ns])
            tracker.add(value.ts[a:b], value.last[a:b], running.ts[c:d], running.last[c:d])
            if b > a and tracker.in_run:
                times.append(int(value.ts[b - 1]))
                rows.append(tracker.features(int(value.ts[b - 1])))
                runs.append(len(tracker.failures))
            tracker.trim(step + step_ns)
    ts, run = np.asarray(times, np.int64), np.asarray(runs, np.int64)
    ends = np.asarray([*tracker.failures, -1], np.int64)[run]
    hours = (ends - ts) / NS_PER_H
    open_run = ends < 0
    hours[open_run] = np.where(
        (end - ts[open_run]) / NS_PER_H >= cap_h, cap_h, np.nan
    )  # censored: known only as "at least the cap"
    known = ~np.isnan(hours)
    x = np.stack(rows) if rows else np.empty((0, len(FEATURES)))
    return ts[known], x[known], hours[known], run[known], np.asarray(tracker.failures, np.int64)


async def train_and_register(
    registry: ModelRegistry,
    store: SampleStore,
    name: str,
    inputs: Sequence[RulInput],
    start: int,
    end: int,
    *,
    seed: int = 0,
    settings: ConditionRulSettings | None = None,
    holdout: float = 0.25,
) -> ModelInfo:
    """Collect rows, measure a model trained on the first ``1 - holdout`` of the time range
    on the rest (the registered metrics), then fit on everything and register that."""
    s = settings or ConditionRulSettings()
    rows = await collect_rows(store, inputs, start, end, cap_h=s.cap_h)
    if not rows.failures:
        msg = f"no failures in the history {start}..{end}: nothing to learn RUL from"
        raise AnalyticsError(msg)
    split = start + int((end - start) * (1 - holdout))
    early = rows.take(rows.ts < split)
    late = rows.take(rows.ts >= split)
    late = RulRows(
        asset=late.asset, run=late.run, ts=late.ts, x=late.x, y=late.y, assets=late.assets,
        failures=tuple(f for f in rows.failures if f[1] >= split),
    )  # fmt: skip
    metrics = {"failures": float(len(rows.failures)), "train_rows": float(len(rows.y))}
    if len(early.y) and late.failures:
        check = fit_condition_rul(early.x, early.y, runs=early.groups, seed=seed, settings=s)
        metrics |= {f"holdout_{k}": v for k, v in evaluate(check, late).items()}
    model = fit_condition_rul(rows.x, rows.y, runs=rows.groups, seed=seed, settings=s)
    return await registry.register(
        name,
        model,
        kind=KIND,
        data_start=start,
        data_end=end,
        data_sources=[i.asset for i in inputs],
        features=model.features,
        metrics=metrics,
        params={
            "cap_h": s.cap_h, "trees": s.trees, "learning_rate": s.learning_rate,
            "leaves": s.leaves, "step_s": STEP_NS / 1e9, "seed": seed, "holdout": holdout,
            "failure_level": inputs[0].failure, "conformal_margin_h": model.margin_h,
        },
    )  # fmt: skip

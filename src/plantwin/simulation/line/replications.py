"""Replications in parallel processes, with common random numbers, summarised with 95 % CIs.

Replication i of every scenario gets ``SeedSequence(seed).spawn(n)[i]``: the same machine
draws the same numbers in each scenario (see ``engine.generators``), so differences between
scenarios are measured with far less noise than independent runs would give.
"""

from __future__ import annotations

import math
import multiprocessing
import multiprocessing.context
import os
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass

import numpy as np
from scipy import stats

from plantwin.simulation.line.engine import StartState, run_line
from plantwin.simulation.line.results import RunResult
from plantwin.simulation.line.spec import LineSpec

Progress = Callable[[int, int], None]  # (replications done, replications in all)


@dataclass(frozen=True, slots=True, kw_only=True)
class Estimate:
    """Mean over replications and the half-width of its 95 % t confidence interval."""

    mean: float
    half_width: float
    n: int

    @property
    def low(self) -> float:
        return self.mean - self.half_width

    @property
    def high(self) -> float:
        return self.mean + self.half_width

    def contains(self, value: float) -> bool:
        return self.low <= value <= self.high


def estimate(values: Sequence[float], confidence: float = 0.95) -> Estimate:
    """Mean and t-interval half-width; NaN values (a KPI a run could not measure) are left out."""
    x = np.asarray([v for v in values if not math.isnan(v)], np.float64)
    if x.size == 0:
        return Estimate(mean=math.nan, half_width=math.nan, n=0)
    if x.size == 1:
        return Estimate(mean=float(x[0]), half_width=math.inf, n=1)
    t = float(stats.t.ppf(0.5 + confidence / 2, x.size - 1))
    return Estimate(
        mean=float(x.mean()), half_width=t * float(x.std(ddof=1)) / math.sqrt(x.size), n=x.size
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class Summary:
    """A scenario's replications: every KPI as an estimate, and where the bottleneck sat."""

    name: str
    runs: tuple[RunResult, ...]
    kpis: dict[str, Estimate]
    bottlenecks: dict[str, int]  # station -> replications in which it was the bottleneck

    @property
    def bottleneck(self) -> str:
        return max(self.bottlenecks, key=lambda s: self.bottlenecks[s])


def summarise(name: str, runs: Sequence[RunResult]) -> Summary:
    keys = list(runs[0].kpis())
    per_run = [r.kpis() for r in runs]
    return Summary(
        name=name,
        runs=tuple(runs),
        kpis={k: estimate([k_values.get(k, math.nan) for k_values in per_run]) for k in keys},
        bottlenecks=dict(Counter(r.bottleneck for r in runs)),
    )


def difference(new: Summary, base: Summary, key: str) -> Estimate:
    """Paired difference new - base of one KPI, replication by replication (same seeds)."""
    pairs = zip(new.runs, base.runs, strict=True)
    return estimate([a.kpis().get(key, math.nan) - b.kpis().get(key, math.nan) for a, b in pairs])


def _one(
    line: LineSpec,
    horizon_s: float,
    warmup_s: float,
    seed: np.random.SeedSequence,
    start: StartState | None,
) -> RunResult:
    return run_line(line, horizon_s=horizon_s, warmup_s=warmup_s, seed=seed, start=start)


def _context() -> multiprocessing.context.BaseContext:
    """Workers from a fork server where there is one: forking the caller itself (the API's
    process, with connector threads holding locks) can deadlock a child."""
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["plantwin.simulation.line.replications"])
    return context


def run_replications(
    line: LineSpec,
    *,
    replications: int,
    horizon_s: float,
    warmup_s: float = 0.0,
    seed: int = 0,
    workers: int | None = None,
    start: StartState | None = None,
    progress: Progress | None = None,
) -> list[RunResult]:
    """``replications`` runs of ``line``, in ``workers`` processes (default: CPUs, 1 = here)."""
    out = run_scenarios(
        {"": line},
        replications=replications,
        horizon_s=horizon_s,
        warmup_s=warmup_s,
        seed=seed,
        workers=workers,
        start=start,
        progress=progress,
    )
    return out[""]


def run_scenarios(
    lines: Mapping[str, LineSpec],
    *,
    replications: int,
    horizon_s: float,
    warmup_s: float = 0.0,
    seed: int = 0,
    workers: int | None = None,
    start: StartState | None = None,
    progress: Progress | None = None,
) -> dict[str, list[RunResult]]:
    """Every line ``replications`` times; replication i of each line uses the same seed.

    All runs share one pool of ``workers`` processes (default: the CPUs; 1 runs them here),
    so a study of several scenarios keeps every core busy until its last run.
    """
    if replications < 1:
        msg = f"need at least one replication, got {replications}"
        raise ValueError(msg)
    seeds = np.random.SeedSequence(seed).spawn(replications)
    jobs = [(name, i) for name in lines for i in range(replications)]
    results: dict[tuple[str, int], RunResult] = {}
    workers = min(len(jobs), workers or os.cpu_count() or 1)
    if workers == 1:
        for name, i in jobs:
            results[name, i] = _one(lines[name], horizon_s, warmup_s, seeds[i], start)
            if progress:
                progress(len(results), len(jobs))
    else:
        with ProcessPoolExecutor(max_workers=workers, mp_context=_context()) as pool:
            futures = {
                pool.submit(_one, lines[name], horizon_s, warmup_s, seeds[i], start): (name, i)
                for name, i in jobs
            }
            for future in as_completed(futures):
                results[futures[future]] = future.result()
                if progress:
                    progress(len(results), len(jobs))
    return {name: [results[name, i] for i in range(replications)] for name in lines}

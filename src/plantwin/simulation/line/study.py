"""Run every scenario of a study with common random numbers and summarise them."""

from __future__ import annotations

from plantwin.simulation.line.engine import StartState
from plantwin.simulation.line.replications import Progress, Summary, run_scenarios, summarise
from plantwin.simulation.line.scenario import Study


def run_study(
    study: Study,
    *,
    workers: int | None = None,
    progress: Progress | None = None,
    start: StartState | None = None,
) -> list[Summary]:
    """One summary per scenario, in the file's order (the first is the reference)."""
    runs = run_scenarios(
        study.lines,
        replications=study.replications,
        horizon_s=study.horizon_s,
        warmup_s=study.warmup_s,
        seed=study.seed,
        workers=workers,
        start=start,
        progress=progress,
    )
    return [summarise(name, runs[name]) for name in study.lines]

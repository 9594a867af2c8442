"""Simulations in the background for the API: progress while they run, results kept.

A study runs in a thread of the service's own (which fans replications out to processes), so
the event loop keeps serving; studies queue there, one at a time. Progress is the count of
finished runs. A finished study's result is written to the store's meta table as JSON under
``simulation/<id>``, so it outlives the process; the service answers from memory first, then
from the store.
"""

from __future__ import annotations

import asyncio
import functools
import json
import math
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from plantwin.core.clock import Clock, iso
from plantwin.core.store import MetaStore
from plantwin.simulation.line.compare import rows
from plantwin.simulation.line.engine import StartState
from plantwin.simulation.line.replications import Summary
from plantwin.simulation.line.scenario import Study
from plantwin.simulation.line.study import run_study

META_PREFIX = "simulation/"


@dataclass(slots=True, kw_only=True)
class SimulationRun:
    id: str
    status: str  # running, done, failed
    total: int
    created: int  # ns
    done: int = 0
    finished: int | None = None
    error: str | None = None
    result: dict[str, Any] | None = None
    task: asyncio.Task[None] | None = field(default=None, repr=False)

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "status": self.status,
            "progress": {"done": self.done, "total": self.total},
            "created": iso(self.created),
            "finished": iso(self.finished) if self.finished is not None else None,
            "error": self.error,
            "result": self.result,
        }


def result_json(study: Study, summaries: list[Summary], start: StartState | None) -> dict[str, Any]:
    """A study's figures: per scenario every KPI's mean and 95 % half-width, and the table."""
    return {
        "line": study.built.spec.name,
        "horizon_s": study.horizon_s,
        "warmup_s": study.warmup_s,
        "replications": study.replications,
        "seed": study.seed,
        "from_now": start is not None,
        "start": None if start is None else {"buffers": start.buffers, "down_s": start.down_s},
        "provenance": [
            {"station": p.station, "parameter": p.parameter, "source": p.source, "detail": p.detail}
            for p in study.built.provenance
        ],
        "scenarios": [
            {
                "name": s.name,
                "bottleneck": s.bottleneck,
                "bottlenecks": s.bottlenecks,
                "kpis": {
                    k: {"mean": _num(e.mean), "half_width": _num(e.half_width)}
                    for k, e in s.kpis.items()
                },
            }
            for s in summaries
        ],
        "table": [{"kpi": r.label, "cells": list(r.cells)} for r in rows(summaries, study.kpis)],
    }


def _num(x: float) -> float | None:
    return x if math.isfinite(x) else None  # JSON has no NaN or inf


class SimulationService:
    """Starts studies in the background and answers their status and results."""

    def __init__(self, *, store: MetaStore, clock: Clock, workers: int | None = None) -> None:
        self._store = store
        self._clock = clock
        self._workers = workers
        self._runs: dict[str, SimulationRun] = {}
        # Studies run one at a time on a thread of their own: each holds its thread for its
        # whole run (minutes), and the default threads are the ones the store writes with.
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="simulation")

    def submit(self, study: Study, start: StartState | None = None) -> SimulationRun:
        run = SimulationRun(
            id=uuid.uuid4().hex[:12],
            status="running",
            total=study.replications * len(study.lines),
            created=self._clock.now_ns(),
        )
        self._runs[run.id] = run
        run.task = asyncio.create_task(self._run(run, study, start), name=f"simulation {run.id}")
        return run

    async def _run(self, run: SimulationRun, study: Study, start: StartState | None) -> None:
        def progress(done: int, total: int) -> None:
            run.done, run.total = done, total  # plain ints: safe to set from the worker thread

        try:
            work = functools.partial(
                run_study, study, workers=self._workers, progress=progress, start=start
            )
            summaries = await asyncio.get_running_loop().run_in_executor(self._thread, work)
            run.result = result_json(study, summaries, start)
            run.status = "done"
        except Exception as err:  # any failure of a study is reported, not raised
            run.status, run.error = "failed", f"{type(err).__name__}: {err}"
        run.finished = self._clock.now_ns()
        await self._store.put_meta(META_PREFIX + run.id, json.dumps(run.as_json()).encode())

    async def get(self, run_id: str) -> dict[str, Any] | None:
        run = self._runs.get(run_id)
        if run is not None:
            return run.as_json()
        stored = await self._store.get_meta(META_PREFIX + run_id)
        if stored is None:
            return None
        found: dict[str, Any] = json.loads(stored)
        return found

    async def wait(self, run_id: str) -> None:
        """Until the run has finished (tests, shutdown)."""
        run = self._runs.get(run_id)
        if run is not None and run.task is not None:
            await run.task

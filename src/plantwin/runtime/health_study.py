"""The demo line through ingest, the twin, the health monitors and the rules, offline.

The same steps as the pipeline's twin stage (``Pipeline._twin`` and ``_health``), without
bus, store or clock, so days of plant time run in seconds. Used by the health tests and
``python -m bench anomalies`` to see how early health alarms come before the demo's
bearing failures (the machine's ``health_low``) and forced tool changes (``tool_health_low``).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TypeVar

import numpy as np

from plantwin.analytics.anomaly.online import HealthMonitors
from plantwin.analytics.anomaly.warnings import (
    NS_PER_H,
    Failure,
    WarningReport,
    assess,
    chains,
    episodes,
)
from plantwin.core.clock import ManualClock
from plantwin.core.records import AlarmEvent, Event
from plantwin.core.samples import SampleBatch
from plantwin.ingest import Ingestor
from plantwin.model.catalog import SignalCatalog
from plantwin.model.plant import Plant
from plantwin.processing.processor import RuleProcessor
from plantwin.runtime.pipeline import with_health
from plantwin.simulation.demo_plant import DemoLine
from plantwin.simulation.demo_plant.settings import DemoSettings
from plantwin.simulation.demo_plant.truth import GroundTruth
from plantwin.twin import TwinState

T = TypeVar("T")


@dataclass(slots=True, kw_only=True)
class StudyRun:
    """What a run produced: health series by signal key, alarm events, explanation events,
    the ground truth, and the seconds spent in each step."""

    start_ns: int
    end_ns: int
    health: dict[str, tuple[np.ndarray, np.ndarray]]
    alarms: list[AlarmEvent]
    events: list[Event]
    truth: GroundTruth
    seconds: dict[str, float] = field(default_factory=dict)
    samples: int = 0


def run_study(
    plant: Plant,
    *,
    seed: int,
    days: float,
    start_ns: int,
    settings: DemoSettings | None = None,
    chunk_s: int = 60,
    health: bool = True,
    time_from_ns: int = 0,
) -> StudyRun:
    """Simulate ``days`` of the demo line and stream it through the twin stage's steps;
    the seconds of each step are counted for batches from ``time_from_ns`` on."""
    catalog = SignalCatalog(plant, {key: n for n, key in enumerate(plant.signals)})
    clock = ManualClock(start_ns)
    ingestor = Ingestor(catalog, clock, max_future_s=days * 86_400 + 3600)
    twin = TwinState(plant, catalog)
    monitors = HealthMonitors(catalog, seed=seed) if health else None
    rules = RuleProcessor(twin, catalog, start_ns=start_ns)
    line = DemoLine(plant=plant, seed=seed, settings=settings, start_ns=start_ns)
    spent = {"simulate": 0.0, "ingest+twin+rules": 0.0, "health": 0.0}
    series: list[SampleBatch] = []  # health samples, split by signal at the end
    alarms: list[AlarmEvent] = []
    events: list[Event] = []
    samples = 0
    for raw in _timed(line.run(days * 86_400, chunk_s=chunk_s), spent, "simulate"):
        t0 = time.perf_counter()
        batch = ingestor.process(raw).batch
        samples += len(batch)
        update = twin.apply(batch)
        derived, changes = update.derived, list(update.changes)
        t1 = time.perf_counter()
        if monitors is not None:
            scored, notes = monitors.process(batch, derived)
            events.extend(notes)
            if len(scored):
                more = twin.apply(scored)
                derived = with_health(derived, scored, more.derived)
                changes.extend(more.changes)
                series.append(scored)
        t2 = time.perf_counter()
        records = rules.process(SampleBatch.merge_disjoint(batch, derived), changes)
        records.extend(rules.tick(line.now_ns))
        alarms.extend(r for r in records if isinstance(r, AlarmEvent))
        t3 = time.perf_counter()
        if line.now_ns >= time_from_ns:
            spent["ingest+twin+rules"] += (t1 - t0) + (t3 - t2)
            spent["health"] += t2 - t1
    keys = {n: key for key, n in catalog.ids.items()}
    every = SampleBatch.concat(series)
    return StudyRun(
        start_ns=start_ns,
        end_ns=line.now_ns,
        health={
            keys[int(sid)]: (every.ts[every.signal == sid], every.value[every.signal == sid])
            for sid in np.unique(every.signal)
        },
        alarms=alarms,
        events=events,
        truth=line.truth,
        seconds=spent,
        samples=samples,
    )


def _timed(source: Iterator[T], spent: dict[str, float], name: str) -> Iterator[T]:
    while True:
        t0 = time.perf_counter()
        try:
            item = next(source)
        except StopIteration:
            return
        spent[name] += time.perf_counter() - t0
        yield item


def warning_report(
    plant: Plant,
    run: StudyRun,
    *,
    fit_h: float,
    alarm: str = "health_low",
    join_h: float = 1.0,
    kinds: tuple[str, ...] = ("bearing", "tool"),
) -> WarningReport:
    """Lead times of the CNCs' ``alarm`` before bearing failures and forced tool changes
    (wear limit) after the healthy period, and false alarms per machine-day; ``kinds``
    picks the failures the alarm is meant to warn of (its other chains are false alarms)."""
    twin_of = {t.rsplit(".", 1)[-1]: t for t in plant.twins}
    fit_end = run.start_ns + int(fit_h * NS_PER_H)
    failures = [
        Failure(asset=twin_of[b.asset], ts=b.failed_ns, kind="bearing") for b in run.truth.bearings
    ]
    failures += [
        Failure(asset=twin_of[c.asset], ts=c.start_ns, kind="tool")
        for c in run.truth.tools
        if c.reason != "planned"
    ]
    failures = [f for f in failures if f.ts > fit_end and f.kind in kinds]
    cncs = [twin_of["mill1"], twin_of["lathe1"]]
    join = int(join_h * NS_PER_H)
    joined = {t: chains(episodes(run.alarms, f"{t}:{alarm}", run.end_ns), join) for t in cncs}
    days = (run.end_ns - fit_end) / (24 * NS_PER_H)
    return assess(joined, failures, join_ns=join, asset_days=len(cncs) * days)

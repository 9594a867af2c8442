"""Run-to-failure histories of the demo line for RUL: simulate, ingest, store, offline.

The demo line runs through ingest into a store without bus or clock, so days of plant time
take seconds; only the signals asked for are stored (a day of the whole line is millions
of samples). The ground truth comes back for checking found failures and errors.
"""

from __future__ import annotations

import time
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field, replace

import numpy as np

from plantwin.analytics.registry import LoadedModel
from plantwin.analytics.rul.online import OnlineRul
from plantwin.core.clock import ManualClock
from plantwin.core.records import AlarmEvent, Event
from plantwin.core.samples import SampleBatch
from plantwin.core.store import SampleStore
from plantwin.ingest import Ingestor
from plantwin.model.catalog import SignalCatalog
from plantwin.model.plant import Plant
from plantwin.processing.processor import RuleProcessor
from plantwin.simulation.demo_plant import DemoLine
from plantwin.simulation.demo_plant.settings import DemoSettings
from plantwin.simulation.demo_plant.truth import GroundTruth
from plantwin.twin import TwinState


def fast_bearings(onset_eta_h: float = 12.0) -> DemoSettings:
    """Demo settings whose spindle bearings start to fail after ~``onset_eta_h`` running
    hours instead of ~53 (the growth to failure is unchanged), so a few simulated days hold
    several run-to-failure histories per machine."""
    s = DemoSettings()
    return replace(
        s,
        mill=replace(s.mill, bearing=replace(s.mill.bearing, onset_eta_h=onset_eta_h)),
        lathe=replace(s.lathe, bearing=replace(s.lathe.bearing, onset_eta_h=onset_eta_h)),
    )


async def demo_history(
    plant: Plant,
    store: SampleStore,
    keys: Collection[str],
    *,
    seed: int,
    days: float,
    start_ns: int,
    settings: DemoSettings | None = None,
) -> GroundTruth:
    """Simulate ``days`` of the demo line and store the samples of ``keys``."""
    ids = await store.register_signals(list(plant.signals))
    catalog = SignalCatalog(plant, ids)
    wanted = np.asarray(sorted(ids[k] for k in keys), np.int32)
    ingestor = Ingestor(catalog, ManualClock(start_ns), max_future_s=days * 86_400 + 3600)
    line = DemoLine(plant=plant, seed=seed, settings=settings, start_ns=start_ns)
    for raw in line.run(days * 86_400, chunk_s=3600):
        batch = ingestor.process(raw).batch
        await store.append(batch.take(np.isin(batch.signal, wanted)))
    await store.flush()
    return line.truth


@dataclass(slots=True, kw_only=True)
class RulRun:
    """RUL series by signal key (ts, value), alarm events and events of an offline run."""

    series: dict[str, tuple[np.ndarray, np.ndarray]]
    alarms: list[AlarmEvent]
    events: list[Event]
    truth: GroundTruth
    seconds: dict[str, float] = field(default_factory=dict)  # ingest+twin+rules, rul stage
    samples: int = 0
    kept: SampleBatch = field(default_factory=SampleBatch.empty)  # ingested samples of ``keep``


def run_twin_rul(
    plant: Plant,
    models: Mapping[str, LoadedModel],
    *,
    seed: int,
    days: float,
    start_ns: int,
    settings: DemoSettings | None = None,
    chunk_s: int = 60,
    keep: Collection[str] = (),
) -> RulRun:
    """Simulate the demo line through ingest, the twin, the RUL stage and the rules, the
    steps of the pipeline's twin stage (``Pipeline._twin``), without bus, store or clock;
    the seconds of the RUL stage and of the other steps are counted apart. The ingested
    samples of ``keep`` come back too (``kept``, ids: position in ``plant.signals``), so
    one simulation gives both the live run and a held-out history."""
    catalog = SignalCatalog(plant, {key: n for n, key in enumerate(plant.signals)})
    kept_ids = np.asarray(sorted(catalog.ids[k] for k in keep), np.int32)
    kept: list[SampleBatch] = []
    ingestor = Ingestor(catalog, ManualClock(start_ns), max_future_s=days * 86_400 + 3600)
    twin = TwinState(plant, catalog)
    stage = OnlineRul(catalog, dict(models))
    rules = RuleProcessor(twin, catalog, start_ns=start_ns)
    line = DemoLine(plant=plant, seed=seed, settings=settings, start_ns=start_ns)
    keys = {n: key for key, n in catalog.ids.items()}
    series: dict[int, list[tuple[np.ndarray, np.ndarray]]] = {}
    run = RulRun(series={}, alarms=[], events=[], truth=line.truth)
    run.seconds = {"ingest+twin+rules": 0.0, "rul": 0.0}
    for raw in line.run(days * 86_400, chunk_s=chunk_s):
        t0 = time.perf_counter()
        batch = ingestor.process(raw).batch
        run.samples += len(batch)
        if kept_ids.shape[0]:
            kept.append(batch.take(np.isin(batch.signal, kept_ids)))
        update = twin.apply(batch)
        derived, changes = update.derived, list(update.changes)
        t1 = time.perf_counter()
        scored, notes = stage.process(batch, derived)
        t2 = time.perf_counter()
        run.events.extend(notes)
        if len(scored):
            more = twin.apply(scored)
            derived = SampleBatch.concat([derived, scored, more.derived]).canonical()
            changes.extend(more.changes)
            for sid in np.unique(scored.signal):
                mask = scored.signal == sid
                series.setdefault(int(sid), []).append((scored.ts[mask], scored.value[mask]))
        records = rules.process(SampleBatch.merge_disjoint(batch, derived), changes)
        records.extend(rules.tick(line.now_ns))
        run.alarms.extend(r for r in records if isinstance(r, AlarmEvent))
        t3 = time.perf_counter()
        run.seconds["ingest+twin+rules"] += (t1 - t0) + (t3 - t2)
        run.seconds["rul"] += t2 - t1
    run.series = {
        keys[s]: (np.concatenate([t for t, _ in v]), np.concatenate([x for _, x in v]))
        for s, v in series.items()
    }
    run.kept = SampleBatch.concat(kept) if kept else SampleBatch.empty()
    return run

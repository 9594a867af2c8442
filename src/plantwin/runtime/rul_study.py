"""Run-to-failure histories of the demo line for RUL: simulate, ingest, store, offline.

The demo line runs through ingest into a store without bus or clock, so days of plant time
take seconds; only the signals asked for are stored (a day of the whole line is millions
of samples). The ground truth comes back for checking found failures and errors.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import replace

import numpy as np

from plantwin.core.clock import ManualClock
from plantwin.core.store import SampleStore
from plantwin.ingest import Ingestor
from plantwin.model.catalog import SignalCatalog
from plantwin.model.plant import Plant
from plantwin.simulation.demo_plant import DemoLine
from plantwin.simulation.demo_plant.settings import DemoSettings
from plantwin.simulation.demo_plant.truth import GroundTruth


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

"""One simulated day of the demo line (ingest, twin, rules, store) in a DuckDB file, as the
runtime's pipeline would write it: samples, derived samples, state changes, alarm events."""

from __future__ import annotations

from pathlib import Path

from plantwin.core import ManualClock
from plantwin.core.samples import SampleBatch
from plantwin.ingest import Ingestor
from plantwin.model.catalog import SignalCatalog
from plantwin.model.loader import load_plant
from plantwin.model.plant import Plant
from plantwin.processing.processor import RuleProcessor
from plantwin.simulation.demo_plant import DemoLine
from plantwin.store import DuckDBStore
from plantwin.twin import TwinState
from tests.simulation.support import DAY, PLANT_FILE, START, S

END = START + DAY * S  # 2026-01-02T00:00Z; the demo site's calendar is Asia/Seoul
REPORT_DAY = "2026-01-01"  # the production day fully inside the simulated day is 2026-01-01


def demo_plant() -> Plant:
    return load_plant(PLANT_FILE)


async def simulate_day(path: Path, seconds: int = DAY) -> None:
    plant = demo_plant()
    line = DemoLine(plant=plant, seed=7, start_ns=START)
    async with DuckDBStore(path=path) as store:
        catalog = SignalCatalog(plant, await store.register_signals(list(plant.signals)))
        twin = TwinState(plant, catalog)
        rules = RuleProcessor(twin, catalog, start_ns=START)
        ingest = Ingestor(catalog, ManualClock(START))
        for raw in line.run(seconds):
            rows = ingest.process(raw)
            update = twin.apply(rows.batch)
            await store.append(rows.batch)
            await store.append(update.derived)
            await store.append_records(update.changes)
            seen = SampleBatch.merge_disjoint(rows.batch, update.derived)
            alarms = rules.process(seen, update.changes)
            alarms += rules.tick(int(rows.batch.ts.max()) if len(rows.batch) else START)
            await store.append_records(alarms)
        await store.flush()

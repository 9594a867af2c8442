"""KPI benchmark: computing a day's ISO 22400 KPIs vs ingesting that day, same run.

Run: .venv/bin/python -m bench.kpis [--days 1] [--dir /tmp]

The demo line is simulated for ``--days`` days; its readings go through ingest and the twin
into a DuckDBStore (timed: the ingest path's cost for the day, simulation excluded). Then
the KPIs of every scope (4 machines, the line, the site) are computed from the store for
every shift, every production day and every hour of the run (timed: cold, nothing stored),
and the runtime's job stores the closed shifts and days. KPIs are computed from history,
off the hot path: the ratio says what they cost next to ingesting the same data.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path

from bench.common import emit, pin_to_one_core
from plantwin.core.clock import ManualClock
from plantwin.core.samples import RawBatch
from plantwin.ingest import Ingestor
from plantwin.model.catalog import SignalCatalog
from plantwin.model.loader import load_plant
from plantwin.processing.kpis import KpiEngine, KpiService, PeriodKind
from plantwin.processing.kpis.service import Every
from plantwin.simulation.demo_plant import DemoLine
from plantwin.store import DuckDBStore
from plantwin.twin import TwinState

NS = 1_000_000_000
T0 = 1_767_225_600 * NS  # 2026-01-01T00:00:00Z
PLANT = Path(__file__).resolve().parent.parent / "examples" / "machining-line.yaml"


async def run(days: float, where: Path) -> dict[str, object]:
    plant = load_plant(PLANT)
    line = DemoLine(plant=plant, seed=7, start_ns=T0)
    raws: list[RawBatch] = list(line.run(days * 86_400))
    end = T0 + round(days * 86_400) * NS
    async with DuckDBStore(path=where / "kpi-bench.duckdb") as store:
        catalog = SignalCatalog(plant, await store.register_signals(list(plant.signals)))
        twin = TwinState(plant, catalog)
        ingest = Ingestor(catalog, ManualClock(T0))
        samples = 0
        t0 = time.perf_counter()
        for raw in raws:
            rows = ingest.process(raw)
            update = twin.apply(rows.batch)
            await store.append(rows.batch)
            if len(update.derived):
                await store.append(update.derived)
            await store.append_records(update.changes)
            samples += len(rows.batch) + len(update.derived)
        await store.flush()
        ingest_s = time.perf_counter() - t0
        service = KpiService(KpiEngine(plant, catalog, store))
        scopes = service.engine.scopes()
        now = end + 3600 * NS
        records = 0
        t1 = time.perf_counter()
        for scope in scopes:
            for spec in (PeriodKind.SHIFT, PeriodKind.DAY, Every(3600 * NS, "PT1H")):
                records += len(await service.query(scope, spec, T0, end, now))
        kpi_s = time.perf_counter() - t1
        t2 = time.perf_counter()
        # what the runtime's job does; the cold queries above stored everything already
        await service.close_periods(now, lookback_s=(days + 1) * 86_400)
        served = 0
        for scope in scopes:
            for spec in (PeriodKind.SHIFT, PeriodKind.DAY):
                served += len(await service.query(scope, spec, T0, end, now))
        stored_s = time.perf_counter() - t2
    rate = samples / ingest_s
    print(f"simulated days          {days:g} ({samples:,} samples stored)")
    print(f"ingest -> twin -> store {ingest_s:8.2f} s ({rate:,.0f} samples/s)")
    print(
        f"KPIs, {len(scopes)} scopes         {kpi_s:8.2f} s ({records} shifts, days, hours; cold)"
    )
    print(f"ratio KPIs / ingest     {kpi_s / ingest_s:8.3f}")
    print(f"stored ones served      {stored_s:8.2f} s ({served} shifts and days)")
    return {
        "bench": "kpis",
        "days": days,
        "samples": samples,
        "ingest_s": round(ingest_s, 3),
        "kpi_s": round(kpi_s, 3),
        "kpi_periods": records,
        "ratio_kpi_over_ingest": round(kpi_s / ingest_s, 4),
        "stored_serve_s": round(stored_s, 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=float, default=1.0)
    parser.add_argument("--dir", type=Path, default=None)
    args = parser.parse_args()
    print(pin_to_one_core())
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        figures = asyncio.run(run(args.days, Path(tmp)))
    emit(figures)


if __name__ == "__main__":
    main()

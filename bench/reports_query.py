"""Reports and SQL benchmark: a day report and the issue's sample SQL query, each next to a
raw baseline measured in the same run.

Run: .venv/bin/python -m bench.reports_query [--dir /tmp]

One simulated day of the demo line goes through ingest, twin and rules into a DuckDBStore
(not timed). Then:

- report: gathering the line's day report (KPIs of 4 machines and the line, state changes,
  alarms), its HTML and its PDF, against the KPI service alone for the same scopes and day
  (what ``GET /api/v1/kpis`` costs);
- SQL: "every spindle on L1 whose hourly vibration rose 20 %" through the sandbox (views,
  read-only transaction, limits) against the same query written over the base tables on a
  plain cursor.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from datetime import date
from pathlib import Path

from bench.common import emit, pin_to_one_core
from plantwin.core.clock import ManualClock
from plantwin.core.samples import SampleBatch
from plantwin.ingest import Ingestor
from plantwin.model.catalog import SignalCatalog
from plantwin.model.loader import load_plant
from plantwin.model.plant import Plant
from plantwin.processing.kpis import KpiEngine, KpiService, PeriodKind
from plantwin.processing.processor import RuleProcessor
from plantwin.reports import gather, render_html, render_pdf, report_period
from plantwin.simulation.demo_plant import DemoLine
from plantwin.store import DuckDBStore
from plantwin.store.sql_sandbox import SqlSandbox
from plantwin.twin import TwinState

NS = 1_000_000_000
T0 = 1_767_225_600 * NS  # 2026-01-01T00:00:00Z
PLANT = Path(__file__).resolve().parent.parent / "examples" / "machining-line.yaml"
LINE = "changwon.L1"
ROUNDS = 5

SANDBOXED = """
WITH hourly AS (
    SELECT h.twin, time_bucket(INTERVAL 1 hour, h.time) AS hour, avg(h.value) AS vibration
    FROM history h JOIN twins t ON t.id = h.twin
    WHERE t.line = 'changwon.L1' AND t.type = 'motor_spindle' AND h.signal = 'vibration'
    GROUP BY ALL
)
SELECT twin, arg_max(vibration, hour) / arg_min(vibration, hour) - 1 AS rise
FROM hourly GROUP BY twin HAVING rise >= 0.2
"""
RAW = """
WITH hourly AS (
    SELECT g.key, time_bucket(INTERVAL 1 hour, make_timestamptz(s.ts // 1000)) AS hour,
           avg(s.value) AS vibration
    FROM samples s JOIN signals g ON g.id = s.signal
    WHERE g.key IN ('changwon.L1.mill1.spindle/vibration', 'changwon.L1.lathe1.spindle/vibration')
    GROUP BY ALL
)
SELECT key, arg_max(vibration, hour) / arg_min(vibration, hour) - 1 AS rise
FROM hourly GROUP BY key HAVING rise >= 0.2
"""


def _best(times: list[float]) -> float:
    return min(times)


async def _simulate_day(store: DuckDBStore, plant: Plant, catalog: SignalCatalog) -> None:
    line = DemoLine(plant=plant, seed=7, start_ns=T0)
    twin = TwinState(plant, catalog)
    rules = RuleProcessor(twin, catalog, start_ns=T0)
    ingest = Ingestor(catalog, ManualClock(T0))
    for raw in line.run(86_400):
        rows = ingest.process(raw)
        update = twin.apply(rows.batch)
        await store.append(rows.batch)
        await store.append(update.derived)
        await store.append_records(update.changes)
        seen = SampleBatch.merge_disjoint(rows.batch, update.derived)
        await store.append_records(rules.process(seen, update.changes))
    await store.flush()


async def _report_times(
    store: DuckDBStore, plant: Plant, catalog: SignalCatalog, now: int
) -> tuple[dict[str, list[float]], int]:
    """Per round: the KPI service alone, then the report's data, HTML and PDF."""
    period = report_period(plant, LINE, date(2026, 1, 1), None)
    engine = KpiEngine(plant, catalog, store)
    times: dict[str, list[float]] = {"kpi": [], "gather": [], "html": [], "pdf": []}
    size = 0
    for _ in range(ROUNDS):
        t0 = time.perf_counter()
        service = KpiService(engine)
        for scope in [LINE, *engine.members(LINE)]:
            await service.query(scope, PeriodKind.DAY, period.start, period.end, now)
        t1 = time.perf_counter()
        data = await gather(plant, catalog, store, LINE, period, now)
        t2 = time.perf_counter()
        html = render_html(data)
        t3 = time.perf_counter()
        size = len(render_pdf(html))
        t4 = time.perf_counter()
        for key, seconds in zip(times, (t1 - t0, t2 - t1, t3 - t2, t4 - t3), strict=True):
            times[key].append(seconds)
    return times, size


async def _sql_times(store: DuckDBStore, plant: Plant) -> tuple[list[float], list[float]]:
    sandbox = SqlSandbox(store.sql_connection, plant)
    raw_con = store.sql_connection()  # a plain cursor of the same database
    sandboxed: list[float] = []
    raw: list[float] = []
    for _ in range(ROUNDS):
        result = await sandbox.run(SANDBOXED)
        sandboxed.append(result.elapsed_s)
        t0 = time.perf_counter()
        raw_con.execute(RAW).fetchall()
        raw.append(time.perf_counter() - t0)
    raw_con.close()
    return sandboxed, raw


async def run(where: Path) -> dict[str, object]:
    plant = load_plant(PLANT)
    now = T0 + 86_400 * NS + 3600 * NS
    async with DuckDBStore(path=where / "reports-bench.duckdb") as store:
        catalog = SignalCatalog(plant, await store.register_signals(list(plant.signals)))
        await _simulate_day(store, plant, catalog)
        times, size = await _report_times(store, plant, catalog, now)
        sandboxed_t, raw_t = await _sql_times(store, plant)
        samples = store.stats().committed_samples
    kpi_s, gather_s, html_s, pdf_s = (_best(times[k]) for k in ("kpi", "gather", "html", "pdf"))
    sql_s, sql_raw_s = _best(sandboxed_t), _best(raw_t)
    print(f"one simulated day, {samples:,} samples; best of {ROUNDS}")
    print(f"KPI service, line + 4 machines (baseline) {kpi_s * 1000:8.1f} ms")
    print(f"report data (KPIs, downtime, alarms)      {gather_s * 1000:8.1f} ms")
    print(f"report HTML with SVG charts               {html_s * 1000:8.1f} ms")
    print(f"report PDF (WeasyPrint)                   {pdf_s * 1000:8.1f} ms ({size:,} bytes)")
    print(f"report total / KPI service                {(gather_s + html_s + pdf_s) / kpi_s:8.1f}x")
    print(f"SQL over base tables (baseline)           {sql_raw_s * 1000:8.1f} ms")
    print(f"SQL through the sandbox and views         {sql_s * 1000:8.1f} ms")
    print(f"sandbox / raw                             {sql_s / sql_raw_s:8.2f}x")
    print(f"(median sandbox {statistics.median(sandboxed_t) * 1000:.1f} ms)")
    return {
        "samples": samples,
        "kpi_ms": round(kpi_s * 1000, 1),
        "report_gather_ms": round(gather_s * 1000, 1),
        "report_html_ms": round(html_s * 1000, 1),
        "report_pdf_ms": round(pdf_s * 1000, 1),
        "report_pdf_bytes": size,
        "report_over_kpis": round((gather_s + html_s + pdf_s) / kpi_s, 1),
        "sql_raw_ms": round(sql_raw_s * 1000, 1),
        "sql_sandbox_ms": round(sql_s * 1000, 1),
        "sandbox_over_raw": round(sql_s / sql_raw_s, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dir", type=Path, default=None, help="folder for the store file")
    args = parser.parse_args()
    print(pin_to_one_core())
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        emit(asyncio.run(run(Path(tmp))))


if __name__ == "__main__":
    main()

"""Reports outside a running twin: open the store of a plant and render one report
(``plantwin report``)."""

from __future__ import annotations

import asyncio
from datetime import date
from pathlib import Path

from plantwin.core.clock import WallClock
from plantwin.model.catalog import SignalCatalog
from plantwin.model.loader import load_plant
from plantwin.reports import ReportFormat, gather, render, report_period, resolve_scope
from plantwin.store.duckdb_store import DuckDBStore


async def report_from_store(
    plant_file: Path,
    store_file: str,
    scope: str,
    day: date,
    *,
    shift: str | None = None,
    fmt: ReportFormat = ReportFormat.PDF,
    now: int | None = None,
) -> bytes:
    """One report on ``scope`` for a production day or shift, read from a DuckDB store file."""
    plant = load_plant(plant_file)
    twin = resolve_scope(plant, scope)
    period = report_period(plant, twin, day, shift)
    async with DuckDBStore(path=store_file) as store:
        catalog = SignalCatalog(plant, await store.register_signals(list(plant.signals)))
        data = await gather(
            plant, catalog, store, twin, period, WallClock().now_ns() if now is None else now
        )
    return await asyncio.to_thread(render, data, fmt)

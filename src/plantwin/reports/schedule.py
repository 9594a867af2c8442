"""Scheduled reports: every closed shift and production day of the plant's lines, written once
to a folder (``<scope>_<label>.<format>``); a file already there is not written again."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from plantwin.core.clock import NS_PER_S
from plantwin.core.store import Store
from plantwin.model.catalog import SignalCatalog
from plantwin.model.plant import Plant, TwinKind
from plantwin.processing.kpis import KpiEngine
from plantwin.processing.kpis.periods import Period, day_periods, shift_periods
from plantwin.reports.data import gather
from plantwin.reports.render import ReportFormat, render_html, render_pdf

log = logging.getLogger(__name__)

SETTLE_NS = 300 * NS_PER_S  # like the KPI job: late data has arrived 5 min after the end


def report_name(scope: str, period: Period, fmt: ReportFormat) -> str:
    return f"{scope}_{period.label.replace(' ', '_')}.{fmt.value}"


def scheduled_scopes(plant: Plant, catalog: SignalCatalog, store: Store) -> list[str]:
    """Lines with KPIs (or the KPI assets of a plant without lines)."""
    engine = KpiEngine(plant, catalog, store)
    lines = [t.id for t in plant.twins.values() if t.kind is TwinKind.LINE]
    return [t for t in lines if engine.has_kpis(t)] or engine.scopes()


async def write_due_reports(
    plant: Plant,
    catalog: SignalCatalog,
    store: Store,
    folder: Path,
    *,
    now: int,
    lookback_s: float,
    fmt: ReportFormat = ReportFormat.PDF,
) -> list[Path]:
    """Write the reports of shifts and days closed in the last ``lookback_s``; new files."""
    await asyncio.to_thread(folder.mkdir, parents=True, exist_ok=True)
    written: list[Path] = []
    lo = now - round(lookback_s * NS_PER_S)
    for scope in scheduled_scopes(plant, catalog, store):
        calendar = plant.calendar(scope)
        periods = shift_periods(calendar, lo, now) if calendar.shifts else []
        periods += day_periods(calendar, lo, now)
        for period in periods:
            target = folder / report_name(scope, period, fmt)
            if period.start < lo or period.end + SETTLE_NS > now:
                continue
            if await asyncio.to_thread(target.exists):
                continue
            data = await gather(plant, catalog, store, scope, period, now)
            if data.kpis is None or not data.kpis.record.inputs.get("pbt_s"):  # no history
                continue
            html = render_html(data)
            body = (
                html.encode()
                if fmt is ReportFormat.HTML
                else await asyncio.to_thread(render_pdf, html)
            )
            partial = target.with_suffix(target.suffix + ".part")
            partial.write_bytes(body)
            partial.replace(target)  # a reader never sees half a report
            written.append(target)
            log.info("wrote report %s", target)
    return written


def _write(target: Path, html: str, fmt: ReportFormat) -> None:
    body = html.encode() if fmt is ReportFormat.HTML else render_pdf(html)
    partial = target.with_suffix(target.suffix + ".part")
    partial.write_bytes(body)
    partial.replace(target)  # a reader never sees half a report

"""A day report of the demo line from a simulated day: every section, charts that draw
something, KPI numbers equal to the KPI API's, a PDF with pages and text."""

from __future__ import annotations

import io
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import httpx
import pypdf
import pytest
from typer.testing import CliRunner

from plantwin.api.app import create_app
from plantwin.api.context import ApiContext
from plantwin.cli import app as cli_app
from plantwin.core import ManualClock
from plantwin.core.errors import QueryError
from plantwin.model.catalog import SignalCatalog
from plantwin.model.plant import Plant
from plantwin.reports import (
    SECTIONS,
    ReportFormat,
    gather,
    render_html,
    render_pdf,
    report_period,
    resolve_scope,
)
from plantwin.reports.schedule import write_due_reports
from plantwin.store import DuckDBStore
from plantwin.twin import TwinState
from tests.helpers import accounts_for, bearer
from tests.reports.demo_day import END, REPORT_DAY, demo_plant
from tests.simulation.support import PLANT_FILE, S

pytestmark = pytest.mark.slow  # the session's simulated day takes about 15 s
NOW = END + 3600 * S
LINE = "changwon.L1"


@dataclass
class Opened:
    plant: Plant
    catalog: SignalCatalog
    store: DuckDBStore
    http: httpx.AsyncClient


@pytest.fixture
async def opened(demo_store_file: Path) -> AsyncIterator[Opened]:
    plant = demo_plant()
    async with DuckDBStore(path=demo_store_file) as store:
        catalog = SignalCatalog(plant, await store.register_signals(list(plant.signals)))
        context = ApiContext(
            plant=plant,
            catalog=catalog,
            twin=TwinState(plant, catalog),
            store=store,
            clock=ManualClock(NOW),
            health=lambda: {"status": "ok"},
            accounts=accounts_for(store),
        )
        transport = httpx.ASGITransport(app=create_app(context))
        async with httpx.AsyncClient(
            transport=transport, base_url="http://t", headers=await bearer(context.accounts)
        ) as http:
            yield Opened(plant, catalog, store, http)


def _svg_sizes(html: str) -> list[list[float]]:
    """Per chart, the areas of its rectangles."""
    out = []
    for svg in re.findall(r"<svg.*?</svg>", html, flags=re.S):
        rects = re.findall(r'<rect [^>]*width="([\d.]+)" height="([\d.]+)"', svg)
        out.append([float(w) * float(h) for w, h in rects])
    return out


async def test_day_report_of_the_line_has_every_section_and_the_api_numbers(
    opened: Opened,
) -> None:
    plant = opened.plant
    scope = resolve_scope(plant, "L1")
    assert scope == LINE
    period = report_period(plant, scope, date.fromisoformat(REPORT_DAY), None)
    data = await gather(plant, opened.catalog, opened.store, scope, period, NOW)
    html = render_html(data)
    for heading in SECTIONS:
        assert f"<h2>{heading}</h2>" in html
    assert "<script" not in html
    charts = _svg_sizes(html)
    assert len(charts) == 6  # OEE, losses, downtime, alarms, scrap, energy
    assert all(sum(a > 0 for a in areas) >= 2 for areas in charts), charts
    # the numbers are the KPI API's for the same production day, line and machines
    api_values: dict[str, dict[str, float]] = {}
    for twin in (LINE, *(f"{LINE}.{m}" for m in ("mill1", "lathe1", "washer1", "cmm1"))):
        answer = await opened.http.get(
            "/api/v1/kpis",
            params={
                "scope": twin,
                "every": "day",
                "start": "2026-01-01T00:00:00Z",
                "end": "2026-01-01T12:00:00Z",
            },
        )
        assert answer.status_code == 200, answer.text
        (day,) = [p for p in answer.json()["periods"] if p["label"] == REPORT_DAY]
        api_values[twin] = day["values"] | day["inputs"]
    assert data.kpis is not None
    assert data.kpis.record.values["oee"] == pytest.approx(api_values[LINE]["oee"])
    assert {u.twin for u in data.units} == set(api_values)
    for unit in data.units:
        for key in ("oee", "availability", "quality"):
            assert unit.record.values[key] == pytest.approx(api_values[unit.twin][key])
        assert unit.record.inputs["pq"] == api_values[unit.twin]["pq"]
    numbers = [
        f"{api_values[t][k] * 100:.1f} %" for t in api_values for k in ("oee", "availability")
    ] + [f"{api_values[t]['pq']:,.0f}" for t in api_values]
    # alarms and downtime came from the simulated day
    assert data.alarm_total > 0
    assert data.top_alarms
    assert {d.category for d in data.downtime} >= {"fault", "idle"}
    # The demo's spindles declare RUL signals; no RUL model was registered for this day.
    assert data.rul_signals == 2
    assert data.rul == []

    pdf = render_pdf(html)
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) >= 1
    text = " ".join(" ".join(p.extract_text().split()) for p in reader.pages)
    no_values = "RUL signals configured, but no values in this period"
    for heading in (*SECTIONS, *numbers, no_values, REPORT_DAY, "Machining line 1"):
        assert heading in text, heading
    # charts are drawn: the PDF has many more filled rectangles than without the SVGs
    bare = render_pdf(re.sub(r"<svg.*?</svg>", "", html, flags=re.S))
    drawn = _rectangles(pdf) - _rectangles(bare)
    assert drawn >= sum(len(c) for c in charts) // 2, drawn


def _rectangles(pdf: bytes) -> int:
    count = 0
    for page in pypdf.PdfReader(io.BytesIO(pdf)).pages:
        contents = page.get_contents()
        assert contents is not None
        count += contents.get_data().count(b" re\n")
    return count


async def test_report_download_cli_and_period_errors(opened: Opened, demo_store_file: Path) -> None:
    answer = await opened.http.get(
        "/api/v1/reports", params={"scope": "L1", "day": REPORT_DAY, "format": "pdf"}
    )
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "application/pdf"
    assert answer.content.startswith(b"%PDF")
    assert "changwon.L1_2026-01-01.pdf" in answer.headers["content-disposition"]
    shift = await opened.http.get(
        "/api/v1/reports",
        params={"scope": "mill1", "day": REPORT_DAY, "shift": "B", "format": "html"},
    )
    assert shift.status_code == 200, shift.text
    assert "shift report 2026-01-01 B" in shift.text
    for params, words in (
        ({"scope": "L9", "day": REPORT_DAY}, "no twin 'L9'"),
        ({"scope": "L1", "day": "27.11.2026"}, "not a date"),
        ({"scope": "L1", "day": REPORT_DAY, "shift": "Z"}, "no shift 'Z'"),
    ):
        bad = await opened.http.get("/api/v1/reports", params=params)
        assert bad.status_code == 400, bad.text
        assert words in bad.json()["error"]["message"]


def test_cli_writes_a_pdf(demo_store_file: Path, tmp_path: Path) -> None:
    target = tmp_path / "r.pdf"
    result = CliRunner().invoke(
        cli_app,
        [
            "report",
            "--plant",
            str(PLANT_FILE),
            "--store",
            str(demo_store_file),
            "--scope",
            "L1",
            "--day",
            REPORT_DAY,
            "--format",
            "pdf",
            "--out",
            str(target),
        ],
    )
    assert result.exit_code == 0, result.output
    reader = pypdf.PdfReader(target)
    assert "Downtime by cause" in " ".join(p.extract_text() for p in reader.pages)


def test_unknown_scope_names_close_matches() -> None:
    with pytest.raises(QueryError, match="did you mean"):
        resolve_scope(demo_plant(), "changwon.L2")


async def test_scheduled_reports_are_written_once(opened: Opened, tmp_path: Path) -> None:
    folder = tmp_path / "reports"
    args = (opened.plant, opened.catalog, opened.store, folder)
    written = await write_due_reports(*args, now=NOW, lookback_s=2 * 86_400, fmt=ReportFormat.HTML)
    names = sorted(p.name for p in written)
    assert "changwon.L1_2026-01-01.html" in names
    assert "changwon.L1_2026-01-01_B.html" in names
    assert all(p.read_text().count("<h2>") == len(SECTIONS) for p in written)
    again = await write_due_reports(*args, now=NOW, lookback_s=2 * 86_400, fmt=ReportFormat.HTML)
    assert again == []

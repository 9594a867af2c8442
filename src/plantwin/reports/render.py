"""A report as HTML (Jinja2, charts inline as SVG) or PDF (WeasyPrint renders that HTML)."""

from __future__ import annotations

import math
from datetime import datetime
from enum import StrEnum
from importlib.resources import files
from zoneinfo import ZoneInfo

import jinja2
from markupsafe import Markup

import plantwin
from plantwin.core.clock import NS_PER_S
from plantwin.core.errors import PlantwinError
from plantwin.reports import charts
from plantwin.reports.data import ReportData, UnitKpis

SECTIONS = (
    "Overall equipment effectiveness",
    "OEE losses",
    "Downtime by cause",
    "Alarms",
    "Scrap",
    "Energy",
    "RUL outlook",
)
NO_RUL = "no RUL model configured"


class ReportFormat(StrEnum):
    HTML = "html"
    PDF = "pdf"


class ReportError(PlantwinError):
    """A report could not be rendered; the message says why."""


def _environment() -> jinja2.Environment:
    source = files("plantwin.reports").joinpath("templates/report.html.j2").read_text("utf-8")
    env = jinja2.Environment(
        loader=jinja2.DictLoader({"report": source}),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters["pct"] = _pct
    env.filters["num"] = _num
    return env


def _pct(v: float | None) -> str:
    return "–" if v is None or not math.isfinite(v) else f"{v * 100:.1f} %"


def _num(v: float | None, digits: int = 1) -> str:
    return "–" if v is None or not math.isfinite(v) else f"{v:,.{digits}f}"


def _local(ns: int, zone: str) -> str:
    return datetime.fromtimestamp(ns / NS_PER_S, tz=ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M")


def render_html(data: ReportData) -> str:
    """The report as one self-contained HTML page (no scripts, no external files)."""
    return (
        _environment()
        .get_template("report")
        .render(
            data=data,
            sections=SECTIONS,
            no_rul=NO_RUL,
            version=plantwin.__version__,
            start=_local(data.period.start, data.zone),
            end=_local(data.period.end, data.zone),
            generated=_local(data.now, data.zone),
            charts=_charts(data),
            losses=_losses(data.kpis),
        )
    )


def render_pdf(html: str) -> bytes:
    """The report HTML laid out as PDF pages by WeasyPrint."""
    import weasyprint  # noqa: PLC0415 - loads pango on first use, not at import of plantwin

    try:
        pdf: bytes = weasyprint.HTML(string=html).write_pdf()
    except (OSError, ValueError) as err:
        msg = f"WeasyPrint could not render the report as PDF: {err}"
        raise ReportError(msg) from err
    return pdf


def render(data: ReportData, fmt: ReportFormat) -> bytes:
    html = render_html(data)
    return html.encode() if fmt is ReportFormat.HTML else render_pdf(html)


def _losses(unit: UnitKpis | None) -> list[tuple[str, float]]:
    """OEE losses in hours: planned busy time, then what availability, performance and
    quality each took off it (ISO 22400: PBT - APT, APT - PRU·PQ, PRU·PQ - PRU·GQ)."""
    if unit is None:
        return []
    i = unit.record.inputs
    pbt, apt = i.get("pbt_s", 0.0), i.get("apt_s", 0.0)
    pru_pq = i.get("pru_pq_s", i.get("pru_s", 0.0) * i.get("pq", 0.0))
    pru_gq = i.get("pru_gq_s", i.get("pru_s", 0.0) * i.get("gq", 0.0))
    if pbt <= 0:
        return []
    return [
        ("planned busy", pbt / 3600),
        ("availability", max(0.0, pbt - apt) / 3600),
        ("performance", max(0.0, apt - pru_pq) / 3600),
        ("quality", max(0.0, pru_pq - pru_gq) / 3600),
    ]


def _charts(data: ReportData) -> dict[str, Markup]:
    names = [u.name for u in data.units]
    values = [u.record.values for u in data.units]
    assets = [u for u in data.units if u.kind == "asset"]  # a line's parts are its output's
    inputs = [u.record.inputs for u in assets]
    oee = charts.grouped_bars(
        "OEE and its factors per unit",
        names,
        [
            charts.Series(name=label, values=[v.get(key) for v in values])
            for label, key in (
                ("availability", "availability"),
                ("performance", "effectiveness"),
                ("quality", "quality"),
                ("OEE", "oee"),
            )
        ],
    )
    down = charts.horizontal_bars(
        "Downtime by cause",
        [f"{d.name} · {d.state}" for d in data.downtime],
        [d.seconds / 60 for d in data.downtime],
        "min",
    )
    alarms = charts.horizontal_bars(
        "Most frequent alarms",
        [a.alarm.removeprefix(data.scope.id + ".") for a in data.top_alarms],
        [float(a.count) for a in data.top_alarms],
        "",
    )
    scrap = charts.grouped_bars(
        "Scrap and rework per unit",
        [u.name for u in assets],
        [
            charts.Series(name="scrap", values=[i.get("sq") for i in inputs]),
            charts.Series(name="rework", values=[i.get("rq") for i in inputs]),
        ],
        percent=False,
    )
    energy = charts.horizontal_bars(
        "Energy per unit",
        [u.name for u in assets],
        [i.get("energy_kwh", 0.0) for i in inputs],
        "kWh",
    )
    waterfall = charts.waterfall("OEE losses", _losses(data.kpis), "h")
    out = {"oee": oee, "losses": waterfall, "downtime": down, "alarms": alarms}
    out |= {"scrap": scrap, "energy": energy}
    return {k: Markup(v) for k, v in out.items()}  # noqa: S704 - built by charts, labels escaped

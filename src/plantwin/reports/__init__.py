"""plantwin.reports: shift and day reports (OEE and losses, downtime, alarms, scrap, energy,
RUL outlook) as HTML with inline SVG charts, and as PDF through WeasyPrint."""

from plantwin.reports.data import ReportData, gather
from plantwin.reports.period import report_period, resolve_scope
from plantwin.reports.render import (
    NO_RUL,
    SECTIONS,
    ReportError,
    ReportFormat,
    render,
    render_html,
    render_pdf,
)

__all__ = [
    "NO_RUL",
    "SECTIONS",
    "ReportData",
    "ReportError",
    "ReportFormat",
    "gather",
    "render",
    "render_html",
    "render_pdf",
    "report_period",
    "resolve_scope",
]

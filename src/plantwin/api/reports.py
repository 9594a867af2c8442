"""Report download: a production day or shift report of a line or asset, as PDF or HTML.

Its own router, so the composition root can attach the 'read' permission to it.
"""

from __future__ import annotations

import asyncio
from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response

from plantwin.api.auth import Reader
from plantwin.api.deps import Context
from plantwin.api.params import ParamError
from plantwin.reports import ReportFormat, gather, render, report_period, resolve_scope
from plantwin.reports.schedule import report_name

router = APIRouter(prefix="/api/v1", tags=["reports"])

MEDIA = {ReportFormat.PDF: "application/pdf", ReportFormat.HTML: "text/html; charset=utf-8"}


@router.get(
    "/reports",
    summary="Day or shift report (OEE and losses, downtime, alarms, scrap, energy, RUL)",
    response_class=Response,
    responses={
        200: {"content": {"application/pdf": {}, "text/html": {}}, "description": "the report"}
    },
)
async def report(
    ctx: Context,
    _: Reader,
    scope: Annotated[str, Query(description="twin id of a line or asset, or its last part (L1)")],
    day: Annotated[str, Query(description="production day YYYY-MM-DD in the site's calendar")],
    shift: Annotated[str | None, Query(description="one shift of that day, e.g. A")] = None,
    format: Annotated[Literal["pdf", "html"], Query()] = "pdf",
) -> Response:
    try:
        when = date.fromisoformat(day)
    except ValueError as err:
        msg = f"day: '{day}' is not a date YYYY-MM-DD"
        raise ParamError(msg) from err
    twin = resolve_scope(ctx.plant, scope)
    period = report_period(ctx.plant, twin, when, shift)
    data = await gather(ctx.plant, ctx.catalog, ctx.store, twin, period, ctx.clock.now_ns())
    fmt = ReportFormat(format)
    body = await asyncio.to_thread(render, data, fmt)  # WeasyPrint takes a second or two
    name = report_name(twin, period, fmt)
    disposition = "attachment" if fmt is ReportFormat.PDF else "inline"
    return Response(
        content=body,
        media_type=MEDIA[fmt],
        headers={"Content-Disposition": f'{disposition}; filename="{name}"'},
    )

"""Self-service SQL: ``POST /api/v1/query`` runs one read-only SELECT over the query views
(hierarchy, live state, history, KPIs, alarms, predictions) and answers with a JSON table,
CSV, Parquet or an SVG bar chart.

Its own router, so the composition root can attach the 'read' permission to it.
"""

from __future__ import annotations

import asyncio
import base64
import io
import math
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Annotated, Any, Literal

import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
from fastapi import APIRouter, Query, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from plantwin.api.auth import Reader
from plantwin.api.deps import Context
from plantwin.api.errors import error_response
from plantwin.reports import charts
from plantwin.store.sql_sandbox import DEFAULT_MAX_ROWS, SqlResult
from plantwin.store.sql_views import VIEWS

router = APIRouter(prefix="/api/v1", tags=["query"])

CHART_ROWS = 60  # bars a chart can show legibly


class QueryIn(BaseModel):
    sql: str = Field(
        description="one SELECT (or WITH ... SELECT) over the views: " + ", ".join(VIEWS),
        examples=["SELECT id, path FROM twins WHERE kind = 'asset'"],
    )
    max_rows: int | None = Field(None, ge=1, le=DEFAULT_MAX_ROWS, description="row limit")
    timeout_s: float | None = Field(None, gt=0, le=60, description="time limit (capped)")


class ColumnOut(BaseModel):
    name: str
    type: str


class QueryOut(BaseModel):
    columns: list[ColumnOut]
    rows: list[list[object]]
    row_count: int
    truncated: bool = Field(description="more rows matched than the limit; rows holds the first")
    limit: int
    elapsed_ms: float


@router.post(
    "/query",
    response_model=QueryOut,
    summary="Read-only SQL over hierarchy, live state, history, KPIs, alarms, predictions",
    responses={
        200: {
            "content": {"text/csv": {}, "application/vnd.apache.parquet": {}, "image/svg+xml": {}}
        },
        400: {
            "description": "not one SELECT, refused function, parse error, timed out, or a "
            "store without SQL (the memory store)"
        },
    },
)
async def query(
    ctx: Context,
    _: Reader,
    body: QueryIn,
    format: Annotated[Literal["json", "csv", "parquet", "svg"], Query()] = "json",
) -> Response:
    if ctx.sql is None:
        return error_response(  # 400, not 501: this deployment's store, not a missing feature
            400,
            "SQL queries need the DuckDB store; this API runs on a store without SQL "
            "(start plantwin with a DuckDB store file)",
        )
    result = await ctx.sql.run(body.sql, max_rows=body.max_rows, timeout_s=body.timeout_s)
    headers = {
        "X-Plantwin-Rows": str(result.table.num_rows),
        "X-Plantwin-Truncated": "true" if result.truncated else "false",
    }
    if format == "csv":
        sink = io.BytesIO()
        pa_csv.write_csv(result.table, sink)
        return Response(sink.getvalue(), media_type="text/csv; charset=utf-8", headers=headers)
    if format == "parquet":
        sink = io.BytesIO()
        await asyncio.to_thread(pq.write_table, result.table, sink)
        return Response(
            sink.getvalue(), media_type="application/vnd.apache.parquet", headers=headers
        )
    if format == "svg":
        return Response(_chart(result.table), media_type="image/svg+xml", headers=headers)
    return JSONResponse(_json(result).model_dump(), headers=headers)


def _json(result: SqlResult) -> QueryOut:
    table = result.table
    columns = table.column_names
    data = [table.column(i).to_pylist() for i in range(len(columns))]
    rows = [[_plain(col[r]) for col in data] for r in range(table.num_rows)]
    return QueryOut(
        columns=[ColumnOut(name=f.name, type=str(f.type)) for f in table.schema],
        rows=rows,
        row_count=table.num_rows,
        truncated=result.truncated,
        limit=result.limit,
        elapsed_ms=round(result.elapsed_s * 1000, 1),
    )


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


# JSON forms of what Arrow columns hold: times as ISO 8601, NaN as null, bytes as base64
_PLAIN: tuple[tuple[type | tuple[type, ...], Callable[[Any], object]], ...] = (
    (float, _finite),
    ((datetime, date, time), lambda v: v.isoformat()),
    (timedelta, lambda v: v.total_seconds()),
    (Decimal, float),
    (bytes, lambda v: base64.b64encode(v).decode()),
    (list, lambda v: [_plain(x) for x in v]),
    (dict, lambda v: {str(k): _plain(x) for k, x in v.items()}),
)


def _plain(value: object) -> object:
    for kind, convert in _PLAIN:
        if isinstance(value, kind):
            return convert(value)
    return value


def _chart(table: pa.Table) -> str:
    """Bars: the first column names the groups, each numeric column is a series."""
    if table.num_columns == 0:
        return charts.grouped_bars("query result", [], [], percent=False)
    rows = table.slice(0, CHART_ROWS)
    labels = [str(v) for v in rows.column(0).to_pylist()]
    series = [
        charts.Series(name=field.name, values=_numbers(rows.column(i).to_pylist()))
        for i, field in enumerate(rows.schema)
        if i > 0
        and (
            pa.types.is_integer(field.type)
            or pa.types.is_floating(field.type)
            or pa.types.is_decimal(field.type)
        )
    ]
    return charts.grouped_bars("query result", labels, series, percent=False)


def _numbers(values: list[object]) -> list[float | None]:
    out: list[float | None] = []
    for v in values:
        f = float(v) if isinstance(v, int | float | Decimal) else None
        out.append(f if f is not None and math.isfinite(f) else None)
    return out

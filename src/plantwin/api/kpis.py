"""KPI route: ISO 22400 KPIs of an asset, line or site per shift, day, bucket or window."""

from __future__ import annotations

import difflib
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.exceptions import RequestValidationError

from plantwin.api.auth import Reader
from plantwin.api.deps import Context
from plantwin.api.errors import NotFoundError
from plantwin.api.kpi_schemas import KpiInputsOut, KpiPeriodOut, KpisOut, KpiValuesOut
from plantwin.api.params import ParamError, iso_duration, parse_duration, parse_time
from plantwin.core.clock import NS_PER_S, iso
from plantwin.core.errors import QueryError
from plantwin.core.kpis import KpiRecord
from plantwin.processing.kpis import KpiEngine, KpiService, PeriodKind
from plantwin.processing.kpis.service import Every, PeriodSpec

router = APIRouter(prefix="/api/v1", tags=["kpis"])

DEFAULT_RANGE_NS = 24 * 3600 * NS_PER_S


def _invalid(name: str, message: str) -> RequestValidationError:
    return RequestValidationError(
        [{"loc": ("query", name), "msg": message, "type": "value_error", "input": None}]
    )


def _every(text: str | None) -> PeriodSpec:
    if text is None:
        return None
    word = text.strip().lower()
    if word in (PeriodKind.SHIFT.value, PeriodKind.DAY.value):
        return PeriodKind(word)
    try:
        width = parse_duration(text, "every")
    except ParamError as err:
        msg = f"{err}, or 'shift' or 'day'"
        raise _invalid("every", msg) from err
    return Every(width=width, name=iso_duration(width))


def _time(text: str | None, name: str, now: int, default: int) -> int:
    if text is None:
        return default
    try:
        return parse_time(text, name, now)
    except ParamError as err:
        raise _invalid(name, str(err)) from err


@router.get(
    "/kpis",
    response_model=KpisOut,
    summary="ISO 22400 KPIs (OEE, availability, MTBF ...) of an asset, line or site",
    responses={404: {"description": "unknown twin, or a twin without KPIs"}},
)
async def kpis(
    ctx: Context,
    _: Reader,
    scope: Annotated[str, Query(description="twin id of an asset, line or site with KPIs")],
    start: Annotated[
        str | None, Query(description="ISO 8601 time with zone, 'now' or '-8h'; default end-24h")
    ] = None,
    end: Annotated[str | None, Query(description="ISO 8601 time with zone or 'now'")] = None,
    every: Annotated[
        str | None,
        Query(description="'shift', 'day' (production day), a width (1h, PT15M); omit: one window"),
    ] = None,
) -> KpisOut:
    engine = KpiEngine(ctx.plant, ctx.catalog, ctx.store)
    twin = ctx.plant.twins.get(scope)
    if twin is None or not engine.has_kpis(scope):
        raise NotFoundError(_unknown(scope, engine))
    now = ctx.clock.now_ns()
    end_ns = _time(end, "end", now, now)
    start_ns = _time(start, "start", now, end_ns - DEFAULT_RANGE_NS)
    if end_ns <= start_ns:
        raise _invalid("start", f"start ({iso(start_ns)}) must be before end ({iso(end_ns)})")
    spec = _every(every)
    try:
        records = await KpiService(engine).query(scope, spec, start_ns, end_ns, now)
    except QueryError as err:
        raise _invalid("every", str(err)) from err
    return KpisOut(
        scope=scope,
        name=twin.name,
        kind=twin.kind.value,
        every=None if spec is None else spec.value if isinstance(spec, PeriodKind) else spec.name,
        timezone=ctx.plant.calendar(scope).zone,
        start=iso(start_ns),
        end=iso(end_ns),
        periods=[_period(r) for r in records],
    )


def _unknown(scope: str, engine: KpiEngine) -> str:
    scopes = engine.scopes()
    if scope in engine.plant.twins:
        return (
            f"twin '{scope}' has no KPIs (an asset needs 'kpi' settings in the plant file); "
            f"twins with KPIs: {', '.join(scopes) or 'none'}"
        )
    close = difflib.get_close_matches(scope, scopes, n=3)
    hint = f"; did you mean {', '.join(close)}?" if close else ""
    return f"no twin '{scope}'{hint} (twins with KPIs: {', '.join(scopes) or 'none'})"


def _period(record: KpiRecord) -> KpiPeriodOut:
    return KpiPeriodOut(
        label=record.label,
        start=iso(record.start),
        end=iso(record.end),
        final=record.computed >= record.end,
        computed=iso(record.computed),
        values=KpiValuesOut.model_validate(dict(record.values)),
        inputs=KpiInputsOut.model_validate(dict(record.inputs)),
        flags=list(record.flags),
    )

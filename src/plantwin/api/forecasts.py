"""Forecast routes: a twin's energy demand for the next hours (docs/analytics.md)."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field

from plantwin.analytics.forecast.live import twin_forecast
from plantwin.analytics.history import HistoryError
from plantwin.analytics.registry import ModelRegistry
from plantwin.api.auth import Reader
from plantwin.api.deps import Context
from plantwin.api.errors import ConflictError, NotFoundError

router = APIRouter(prefix="/api/v1", tags=["forecasts"])


class HourOut(BaseModel):
    start: int = Field(description="hour start, ns UTC")
    median: float = Field(description="energy of the hour, kWh")
    low: float = Field(description="80 % interval, lower bound, kWh")
    high: float = Field(description="80 % interval, upper bound, kWh")


class ForecastOut(BaseModel):
    """Energy per hour ahead, computed on request (forecasts are not stored as samples)."""

    twin: str
    signal: str = Field(description="the energy counter forecast")
    model: str = Field(description="registered model, name@version")
    issued: int = Field(description="end of the last whole hour known, ns UTC")
    hours: list[HourOut]


@router.get(
    "/forecasts/{twin}",
    summary="Energy forecast of a twin for the next hours, with 80 % intervals",
)
async def forecast(ctx: Context, _: Reader, twin: str) -> ForecastOut:
    if twin not in ctx.plant.twins:
        msg = f"no twin {twin!r}"
        raise NotFoundError(msg)
    try:
        made = await twin_forecast(
            ctx.catalog, ctx.store, ModelRegistry(ctx.store), twin, ctx.clock.now_ns()
        )
    except HistoryError as err:  # no model for the twin, or not a day of history yet
        raise ConflictError(str(err)) from err
    return ForecastOut(
        twin=made.twin,
        signal=made.signal,
        model=made.model,
        issued=made.issued_ns,
        hours=[
            HourOut(start=h.start_ns, median=h.median_kwh, low=h.low_kwh, high=h.high_kwh)
            for h in made.hours
        ],
    )

"""The energy forecast of a twin now: its registered model over the store's recent history.

Forecasts are about future hours, so they are not samples: a sample's time is when it was
measured, and the store and twin refuse or mislead with times ahead of the clock. A
forecast is computed when asked, from the counter's last day and a bit in the store, and
served as a record of hours (``GET /api/v1/forecasts/{twin}``): issued at the end of the
last whole hour, each following hour with its median and 80 % interval.
"""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo

from plantwin.analytics.forecast.energy import NS_PER_H, SEASON, QuantileBoost, hourly
from plantwin.analytics.history import HistoryError, Series
from plantwin.analytics.registry import ModelRegistry
from plantwin.core.models import ModelInfo
from plantwin.core.store import HistoryQuery, SampleStore
from plantwin.model.catalog import SignalCatalog
from plantwin.model.plant import Plant, TwinKind

MODEL_NAME = "energy_forecast"


@dataclass(frozen=True, slots=True, kw_only=True)
class HourForecast:
    start_ns: int
    median_kwh: float
    low_kwh: float
    high_kwh: float


@dataclass(frozen=True, slots=True, kw_only=True)
class TwinForecast:
    twin: str
    signal: str  # the energy counter's key
    model: str  # name@version
    issued_ns: int  # end of the last whole hour the forecast knows
    hours: list[HourForecast]


def site_zone(plant: Plant, twin_id: str) -> ZoneInfo:
    """The time zone of the site the twin belongs to (UTC outside any site)."""
    twin = plant.twins.get(twin_id)
    while twin is not None and twin.kind is not TwinKind.SITE:
        twin = plant.twins.get(twin.parent) if twin.parent is not None else None
    return ZoneInfo(plant.timezones.get(twin.id, "UTC") if twin is not None else "UTC")


async def twin_forecast(
    catalog: SignalCatalog, store: SampleStore, registry: ModelRegistry, twin_id: str, now_ns: int
) -> TwinForecast:
    """Forecast the twin's energy counter from the newest registered model trained on it.

    Raises HistoryError when no model is registered for the twin's signals or the store
    holds less than a day of the counter before ``now_ns``.
    """
    twin = catalog.plant.twins[twin_id]
    info = _model_for(await registry.list(MODEL_NAME), set(twin.signals))
    if info is None:
        msg = f"no '{MODEL_NAME}' model is registered for a signal of {twin_id}"
        raise HistoryError(msg)
    key = info.features[0]
    loaded = await registry.load(info.name, info.version)
    model = loaded.model
    if not isinstance(model, QuantileBoost):
        msg = f"model {info.ref} is a {type(model).__name__}, not an energy forecaster"
        raise HistoryError(msg)
    start = now_ns - (SEASON + 2) * NS_PER_H
    found = await store.history(HistoryQuery(signal=catalog.ids[key], start=start, end=now_ns + 1))
    data = hourly(
        Series(ts=found.ts, value=found.last),
        site_zone(catalog.plant, twin_id),
        start_ns=start,
        end_ns=now_ns,
    )
    if len(data) <= SEASON:
        msg = f"{len(data)} whole hours of {key} in the store; the forecast needs {SEASON + 1}"
        raise HistoryError(msg)
    origin = len(data) - 1
    f = model.forecast(data, origin)
    return TwinForecast(
        twin=twin_id,
        signal=key,
        model=info.ref,
        issued_ns=int(data.start_ns[origin]) + NS_PER_H,
        hours=[
            HourForecast(
                start_ns=int(t), median_kwh=float(m), low_kwh=float(lo), high_kwh=float(hi)
            )
            for t, m, lo, hi in zip(f.start_ns, f.median, f.low, f.high, strict=True)
        ],
    )


def _model_for(infos: list[ModelInfo], signals: set[str]) -> ModelInfo | None:
    """The newest version whose counter (first feature) is one of ``signals``."""
    for info in reversed(infos):
        if info.features and info.features[0] in signals:
            return info
    return None

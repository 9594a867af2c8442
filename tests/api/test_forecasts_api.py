"""GET /api/v1/forecasts/{twin}: the registered energy model over the store's last day."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import numpy as np
import pytest

from plantwin.analytics.forecast.energy import NS_PER_H, QuantileBoost, hourly
from plantwin.analytics.forecast.live import site_zone
from plantwin.analytics.registry import ModelRegistry
from plantwin.api.app import create_app
from plantwin.api.context import ApiContext
from plantwin.core import ManualClock
from plantwin.core.samples import SampleBatch
from plantwin.model.catalog import SignalCatalog
from plantwin.model.loader import load_plant
from plantwin.runtime.demo_history import DAY_S, START_NS, demo_history
from plantwin.store import MemoryStore
from plantwin.twin import TwinState
from tests.conftest import ROOT
from tests.helpers import accounts_for, bearer

METER = "changwon.meter1/energy"
pytestmark = pytest.mark.slow  # simulates four days of the demo line


@pytest.fixture
async def client() -> AsyncIterator[tuple[httpx.AsyncClient, MemoryStore, int]]:
    plant = load_plant(ROOT / "examples" / "machining-line.yaml")
    train = demo_history(plant, [METER], seed=1, days=3)
    h = train.history
    model = QuantileBoost(horizon=4, seed=1)
    model.fit(
        hourly(h[METER], site_zone(plant, "changwon.meter1"), start_ns=h.start_ns, end_ns=h.end_ns)
    )
    live_start = START_NS + 10 * DAY_S * 10**9
    live = demo_history(plant, [METER], seed=2, days=1.25, start_ns=live_start).history[METER]
    now = int(live.ts[-1])
    async with MemoryStore() as store:
        catalog = SignalCatalog(plant, await store.register_signals(list(plant.signals)))
        await store.append(SampleBatch.of([catalog.ids[METER]] * len(live), live.ts, live.value))
        context = ApiContext(
            plant=plant, catalog=catalog, twin=TwinState(plant, catalog), store=store,
            clock=ManualClock(now), health=lambda: {"status": "ok"}, accounts=accounts_for(store),
        )  # fmt: skip
        transport = httpx.ASGITransport(app=create_app(context))
        async with httpx.AsyncClient(
            transport=transport, base_url="http://test", headers=await bearer(context.accounts)
        ) as http:
            no_model = await http.get("/api/v1/forecasts/changwon.meter1")
            assert no_model.status_code == 409
            assert "no 'energy_forecast' model" in no_model.text
            await ModelRegistry(store).register(
                "energy_forecast", model, kind="lightgbm-quantile+conformal",
                data_start=h.start_ns, data_end=h.end_ns, features=[METER],
            )  # fmt: skip
            yield http, store, now


async def test_the_meter_twin_gets_hours_ahead_with_intervals(
    client: tuple[httpx.AsyncClient, MemoryStore, int],
) -> None:
    http, _, now = client
    response = await http.get("/api/v1/forecasts/changwon.meter1")
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["twin"], body["signal"], body["model"]) == (
        "changwon.meter1",
        METER,
        "energy_forecast@1",
    )
    assert body["issued"] % NS_PER_H == 0
    assert now - NS_PER_H < body["issued"] <= now  # the last whole hour
    starts = [hour["start"] for hour in body["hours"]]
    assert starts == [body["issued"] + k * NS_PER_H for k in range(4)]
    for hour in body["hours"]:
        assert hour["low"] <= hour["median"] <= hour["high"]
        assert 40.0 < hour["median"] < 250.0  # kWh per hour of a site drawing 50-200 kW
    # a twin without an energy model, and one that does not exist
    assert (await http.get("/api/v1/forecasts/changwon.L1.mill1")).status_code == 409
    assert (await http.get("/api/v1/forecasts/nowhere")).status_code == 404
    assert np.isfinite([h["median"] for h in body["hours"]]).all()

"""GET /api/v1/kpis over a real store: periods, values, errors (ASGI in process)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from plantwin.api.app import create_app
from plantwin.api.context import ApiContext
from plantwin.core import ManualClock
from plantwin.store import DuckDBStore
from plantwin.twin import TwinState
from tests.helpers import accounts_for, bearer
from tests.processing.kpi_support import H, catalog, counter, local, plant, states

SHIFT_A = local("2027-01-18 06:00")  # Monday, Berlin
M1 = "berlin.L.m1"


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    p = plant()
    async with DuckDBStore(path=tmp_path / "kpi.duckdb") as store:
        cat = catalog(p)
        assert await store.register_signals(list(p.signals)) == cat.ids
        await states(store, M1, SHIFT_A, [(0, "running"), (100, "down"), (130, "running")])
        await counter(store, cat, f"{M1}/part_count", SHIFT_A, [(-1, 0), (470, 800)])
        await counter(store, cat, f"{M1}/good_count", SHIFT_A, [(-1, 0), (470, 790)])
        await counter(store, cat, f"{M1}/scrap_count", SHIFT_A, [(-1, 0), (470, 10)])
        context = ApiContext(
            plant=p,
            catalog=cat,
            twin=TwinState(p, cat),
            store=store,
            clock=ManualClock(SHIFT_A + 10 * H),
            health=lambda: {"status": "ok"},
            accounts=accounts_for(store),
        )
        transport = httpx.ASGITransport(app=create_app(context))
        async with httpx.AsyncClient(
            transport=transport, base_url="http://test", headers=await bearer(context.accounts)
        ) as http:
            yield http


async def test_kpis_per_shift_with_inputs(client: httpx.AsyncClient) -> None:
    response = await client.get(
        "/api/v1/kpis",
        params={"scope": M1, "start": "2027-01-18T05:00:00Z", "end": "2027-01-18T06:00:00Z",
                "every": "shift"},
    )  # fmt: skip
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["scope"], body["kind"], body["every"], body["timezone"]) == (
        M1, "asset", "shift", "Europe/Berlin",
    )  # fmt: skip
    (shift,) = body["periods"]
    assert shift["label"] == "2027-01-18 A"
    assert (shift["start"], shift["end"]) == ("2027-01-18T05:00:00Z", "2027-01-18T13:00:00Z")
    assert shift["final"] is True
    inputs, values = shift["inputs"], shift["values"]
    assert (inputs["pbt_s"], inputs["adet_s"], inputs["pq"]) == (450 * 60, 30 * 60, 800)
    assert values["availability"] == pytest.approx(420 / 450)
    assert values["oee"] == pytest.approx(30 * 790 / (450 * 60))
    assert values["scrap_ratio"] == pytest.approx(10 / 800)
    assert values["mtbf_h"] == pytest.approx(7.0)


async def test_buckets_rolling_window_and_lines(client: httpx.AsyncClient) -> None:
    hourly = (
        await client.get(
            "/api/v1/kpis",
            params={
                "scope": M1,
                "start": "2027-01-18T05:00:00Z",
                "end": "2027-01-18T08:00:00Z",
                "every": "PT1H",
            },
        )
    ).json()
    assert hourly["every"] == "PT1H"
    assert [p["inputs"]["adet_s"] for p in hourly["periods"]] == [0, 1200, 600]  # down 06:40-07:10Z
    rolling = (
        await client.get("/api/v1/kpis", params={"scope": "berlin.L", "start": "-12h"})
    ).json()
    (window,) = rolling["periods"]
    assert rolling["every"] is None
    assert window["values"]["availability"] == pytest.approx(420 / 450)  # only m1 has states
    assert window["final"] is False or window["end"] <= window["computed"]


async def test_kpi_errors_say_what_is_wrong(client: httpx.AsyncClient) -> None:
    unknown = await client.get("/api/v1/kpis", params={"scope": "berlin.L.m11"})
    assert unknown.status_code == 404
    assert "did you mean berlin.L.m1" in unknown.json()["error"]["message"]
    belt = await client.get("/api/v1/kpis", params={"scope": "berlin.L.belt"})
    assert belt.status_code == 404
    assert "has no KPIs" in belt.json()["error"]["message"]
    site = await client.get("/api/v1/kpis", params={"scope": "plain"})  # a site with a KPI asset
    assert site.status_code == 200
    bad_every = await client.get("/api/v1/kpis", params={"scope": M1, "every": "weekly"})
    assert bad_every.status_code == 422
    assert "every" in bad_every.json()["error"]["message"]
    assert "'shift' or 'day'" in bad_every.json()["error"]["message"]
    bad_time = await client.get("/api/v1/kpis", params={"scope": M1, "start": "yesterday"})
    assert bad_time.status_code == 422
    assert bad_time.json()["error"]["message"].startswith("query.start: ")
    backwards = await client.get("/api/v1/kpis", params={"scope": M1, "start": "now", "end": "-1h"})
    assert backwards.status_code == 422
    too_many = await client.get(
        "/api/v1/kpis", params={"scope": M1, "start": "-1000d", "every": "1s"}
    )
    assert too_many.status_code == 422
    assert "wider 'every'" in too_many.json()["error"]["message"]
    ages = await client.get(
        "/api/v1/kpis", params={"scope": M1, "start": "1700-01-01T00:00:00Z", "every": "day"}
    )
    assert ages.status_code == 422
    assert "too long for day periods" in ages.json()["error"]["message"]
    missing = await client.get("/api/v1/kpis")
    assert missing.status_code == 422


async def test_kpi_schemas_are_in_openapi(client: httpx.AsyncClient) -> None:
    doc = (await client.get("/openapi.json")).json()
    assert "/api/v1/kpis" in doc["paths"]
    assert {"KpisOut", "KpiPeriodOut", "KpiValuesOut", "KpiInputsOut"} <= set(
        doc["components"]["schemas"]
    )

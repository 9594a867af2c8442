"""The REST API against a real twin state and store (no server socket: ASGI in process)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import numpy as np
import pytest

from plantwin.api.app import create_app
from plantwin.api.context import ApiContext
from plantwin.core import ManualClock, RawBatch
from plantwin.ingest import Ingestor
from plantwin.model.catalog import SignalCatalog
from plantwin.model.plant import Plant, TwinKind
from plantwin.store import DuckDBStore
from plantwin.twin import TwinState
from tests.helpers import T0, S, accounts_for, bearer

MINUTE = 60 * S


@pytest.fixture
async def client(example_plant: Plant, tmp_path: Any) -> AsyncIterator[httpx.AsyncClient]:
    async with DuckDBStore(path=tmp_path / "api.duckdb") as store:
        ids = await store.register_signals(list(example_plant.signals))
        catalog = SignalCatalog(example_plant, ids)
        clock = ManualClock(T0 + 10 * MINUTE)
        twin = TwinState(example_plant, catalog)
        ingest = Ingestor(catalog, clock)
        # Ten minutes of spindle vibration at 1 Hz: value = minute index + second / 100.
        seconds = np.arange(600)
        rows = ingest.process(
            RawBatch.of(
                "demo",
                ["L1/mill1/spindle/vibration"] * 600 + ["L1/mill1/state"],
                np.append(T0 + seconds * S, T0),
                np.append(seconds // 60 + (seconds % 60) / 100, 1.0),
            )
        )
        twin.apply(rows.batch)
        await store.append(rows.batch)
        context = ApiContext(
            plant=example_plant,
            catalog=catalog,
            twin=twin,
            store=store,
            clock=clock,
            health=lambda: {"status": "ok", "samples": len(rows.batch)},
            accounts=accounts_for(store),
        )
        transport = httpx.ASGITransport(app=create_app(context))
        async with httpx.AsyncClient(
            transport=transport, base_url="http://test", headers=await bearer(context.accounts)
        ) as http:
            yield http


async def test_tree_lists_every_twin(client: httpx.AsyncClient, example_plant: Plant) -> None:
    body = (await client.get("/api/v1/twins")).json()
    seen: list[str] = []

    def walk(node: dict[str, Any]) -> None:
        seen.append(node["id"])
        for child in node["children"]:
            walk(child)

    for root in body["roots"]:
        walk(root)
    assert seen == list(example_plant.twins)
    assets = [t.id for t in example_plant.twins.values() if t.kind is TwinKind.ASSET]
    assert len(assets) == 10
    assert set(assets) <= set(seen)
    assert body["roots"][0]["category"] == "production"  # the mill runs


async def test_twin_detail_has_live_values_state_and_commands(client: httpx.AsyncClient) -> None:
    body = (await client.get("/api/v1/twins/changwon.L1.mill1")).json()
    assert body["state"] == {
        "name": "running",
        "category": "production",
        "since": "2027-01-15T08:00:00Z",
    }
    assert body["children"] == ["changwon.L1.mill1.spindle", "changwon.L1.mill1.tool"]
    assert {c["name"] for c in body["commands"]} == {
        "set_feed_override",
        "set_spindle_speed",
        "reset_fault",
    }
    spindle = (await client.get("/api/v1/twins/changwon.L1.mill1.spindle")).json()
    vibration = next(s for s in spindle["signals"] if s["name"] == "vibration")
    assert vibration["value"] == pytest.approx(9.59)
    assert vibration["time"] == "2027-01-15T08:09:59Z"
    assert vibration["unit"] == "mm/s"
    assert vibration["quality"] == []
    assert next(s for s in spindle["signals"] if s["name"] == "speed")["value"] is None


async def test_history_buckets_match_hand_computed_values(client: httpx.AsyncClient) -> None:
    response = await client.get(
        "/api/v1/twins/changwon.L1.mill1.spindle/history",
        params={
            "signal": "vibration",
            "start": "2027-01-15T08:00:00Z",
            "end": "2027-01-15T08:10:00Z",
            "every": "5m",
        },
    )
    body = response.json()
    assert response.status_code == 200, body
    assert body["time"] == ["2027-01-15T08:00:00Z", "2027-01-15T08:05:00Z"]
    assert body["count"] == [300, 300]
    assert body["min"] == pytest.approx([0.0, 5.0])
    assert body["max"] == pytest.approx([4.59, 9.59])
    assert body["last"] == pytest.approx([4.59, 9.59])
    assert body["mean"] == pytest.approx([2 + 0.295, 7 + 0.295])
    assert body["every"] == "PT5M"


async def test_raw_history_with_relative_times(client: httpx.AsyncClient) -> None:
    body = (
        await client.get(
            "/api/v1/twins/changwon.L1.mill1.spindle/history",
            params={"signal": "vibration", "start": "-2m", "end": "now-1m"},
        )
    ).json()
    assert body["rows"] == 60
    assert body["value"][0] == pytest.approx(8.0)
    assert body["value"][-1] == pytest.approx(8.59)
    assert "min" not in body


@pytest.mark.parametrize(
    ("url", "status", "message"),
    [
        (
            "/api/v1/twins/changwon.L1.mil1",
            404,
            "no twin 'changwon.L1.mil1'; did you mean changwon.L1.mill1",
        ),
        (
            "/api/v1/twins/changwon.L1.mill1/history?signal=vibe",
            404,
            "has no signal 'vibe' (signals: part_count",
        ),
        (
            "/api/v1/twins/changwon.L1.mill1.spindle/history?signal=vibration&every=fast",
            400,
            "every='fast' is not a duration",
        ),
        (
            "/api/v1/twins/changwon.L1.mill1.spindle/history?signal=vibration&start=yesterday",
            400,
            "start='yesterday': 'yesterday' is not an ISO 8601 time",
        ),
        (
            "/api/v1/twins/changwon.L1.mill1.spindle/history?signal=vibration&start=2027-01-15T08:00:00",
            400,
            "has no time zone",
        ),
        (
            "/api/v1/twins/changwon.L1.mill1.spindle/history?signal=vibration&start=now&end=-1h",
            400,
            "must be before end",
        ),
        ("/api/v1/twins/changwon.L1.mill1.spindle/history", 422, "query.signal: Field required"),
        ("/api/v1/nothing", 404, "no such endpoint"),
    ],
)
async def test_errors_are_json_and_say_what_is_wrong(
    client: httpx.AsyncClient, url: str, status: int, message: str
) -> None:
    response = await client.get(url)
    assert response.status_code == status
    error = response.json()["error"]
    assert error["status"] == status
    assert message in error["message"]


async def test_health_and_openapi(client: httpx.AsyncClient) -> None:
    health = (await client.get("/api/v1/health")).json()
    assert health["status"] == "ok"
    assert health["details"]["samples"] == 601
    spec = (await client.get("/openapi.json")).json()
    assert {
        "/api/v1/twins",
        "/api/v1/twins/{twin_id}",
        "/api/v1/twins/{twin_id}/history",
        "/api/v1/health",
    } <= set(spec["paths"])


async def test_times_out_of_range_are_400_not_500(client: httpx.AsyncClient) -> None:
    for query in ("start=-99999999999w", "start=9999-12-31T23:59:59Z", "every=999999999d"):
        response = await client.get(
            f"/api/v1/twins/changwon.L1.mill1.spindle/history?signal=vibration&{query}"
        )
        assert response.status_code == 400, query
        assert (
            "out of range" in response.json()["error"]["message"]
            or "1000 years" in (response.json()["error"]["message"])
        )


async def test_an_unexpected_error_is_a_json_500(client: httpx.AsyncClient) -> None:
    transport = client._transport
    assert isinstance(transport, httpx.ASGITransport)
    app = transport.app
    context = app.state.context  # type: ignore[attr-defined]

    def broken() -> dict[str, object]:
        raise RuntimeError("health source went away")

    app.state.context = ApiContext(  # type: ignore[attr-defined]
        plant=context.plant,
        catalog=context.catalog,
        twin=context.twin,
        store=context.store,
        clock=context.clock,
        health=broken,
        accounts=context.accounts,
    )
    quiet = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=quiet, base_url="http://test") as http:
        response = await http.get("/api/v1/health")
    assert response.status_code == 500
    assert "RuntimeError: health source went away" in response.json()["error"]["message"]

"""POST /api/v1/simulations runs a study in the background; GET shows progress and result."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import httpx
import numpy as np
import pytest

from plantwin.api.app import create_app
from plantwin.api.context import ApiContext
from plantwin.core import ManualClock
from plantwin.core.samples import SampleBatch
from plantwin.model.catalog import SignalCatalog
from plantwin.model.loader import load_plant
from plantwin.simulation.demo_plant import DemoSettings
from plantwin.simulation.line.live import start_from_twin
from plantwin.simulation.line.plant_line import line_from_plant
from plantwin.simulation.line.scenario import parse_scenario, study_for_plant
from plantwin.simulation.line.service import SimulationService
from plantwin.store import MemoryStore
from plantwin.twin import TwinState
from tests.conftest import EXAMPLE
from tests.helpers import T0, S, accounts_for, bearer
from tests.simulation.test_line_plant import mill_failures

SCENARIO = """
line: L1
warmup: 2 h
kpis: [throughput_per_h, utilisation, bottleneck]
scenarios:
  baseline: {}
  second mill: {stations: {mill1: {machines: 2}}}
"""


@dataclass
class SimApp:
    http: httpx.AsyncClient
    context: ApiContext
    service: SimulationService


@pytest.fixture
async def sim_app() -> AsyncIterator[SimApp]:
    plant = load_plant(EXAMPLE)
    async with MemoryStore() as store:
        catalog = SignalCatalog(plant, await store.register_signals(list(plant.signals)))
        context = ApiContext(
            plant=plant,
            catalog=catalog,
            twin=TwinState(plant, catalog),
            store=store,
            clock=ManualClock(T0),
            health=lambda: {"status": "ok"},
            accounts=accounts_for(store),
        )
        app = create_app(context)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://test", headers=await bearer(context.accounts)
        ) as http:
            yield SimApp(http, context, app.state.simulations)


def _feed(context: ApiContext, values: dict[str, float], ts: int) -> None:
    ids = [context.catalog.id(k) for k in values]
    order = np.argsort(ids)
    batch = SampleBatch.of(
        np.asarray(ids)[order], np.full(len(ids), ts), np.asarray(list(values.values()))[order]
    )
    context.twin.apply(batch)


async def test_a_study_runs_in_the_background_and_is_stored(sim_app: SimApp) -> None:
    body = {"scenario": SCENARIO, "replications": 2, "horizon": "2 d"}
    started = await sim_app.http.post("/api/v1/simulations", json=body)
    assert started.status_code == 202, started.text
    first = started.json()
    assert first["status"] == "running"
    assert first["progress"] == {"done": 0, "total": 4}
    await sim_app.service.wait(first["id"])
    done = (await sim_app.http.get(f"/api/v1/simulations/{first['id']}")).json()
    assert done["status"] == "done", done["error"]
    assert done["progress"] == {"done": 4, "total": 4}
    result = done["result"]
    base, doubled = result["scenarios"]
    assert base["name"] == "baseline"
    assert base["bottleneck"] == "mill1"
    gain = doubled["kpis"]["throughput_per_h"]["mean"] - base["kpis"]["throughput_per_h"]["mean"]
    assert gain > 2.0
    assert result["table"][0]["kpi"] == "Throughput (parts/h)"
    assert result["from_now"] is False
    assert any(p["source"] == "demo settings" for p in result["provenance"])
    # the result is in the store, for after a restart
    fresh = SimulationService(store=sim_app.context.store, clock=sim_app.context.clock)
    stored = await fresh.get(first["id"])
    assert stored is not None
    assert stored["result"] == result


async def test_bad_scenario_and_unknown_id_are_answered(sim_app: SimApp) -> None:
    bad = {"scenario": "scenarios:\n  x: {stations: {drill9: {machines: 2}}}\n"}
    answer = await sim_app.http.post("/api/v1/simulations", json=bad)
    assert answer.status_code == 422
    assert "drill9" in answer.text
    horizon = await sim_app.http.post(
        "/api/v1/simulations", json={"scenario": SCENARIO, "horizon": "soon"}
    )
    assert horizon.status_code == 422
    assert "horizon" in horizon.text
    control = await sim_app.http.post("/api/v1/simulations", json={"scenario": "\x1f"})
    assert control.status_code == 422
    assert "not YAML text" in control.text
    missing = await sim_app.http.get("/api/v1/simulations/nope")
    assert missing.status_code == 404
    assert "nope" in missing.json()["error"]["message"]


def test_start_from_the_live_twin(sim_app: SimApp) -> None:
    ctx = sim_app.context
    _feed(
        ctx,
        {
            "changwon.L1.mill1/state": 3.0,  # down
            "changwon.L1.buf_ml/level": 5.0,
            "changwon.L1.buf_lw/level": 2.0,
            "changwon.L1.lathe1/state": 1.0,  # running
            "changwon.L1.lathe1.spindle/vibration": 5.2,  # past the 4.5 mm/s alarm
        },
        T0 - 600 * S,
    )
    built = line_from_plant(ctx.plant, demo=DemoSettings())
    start = start_from_twin(built, ctx.twin, T0)
    assert start.buffers == {"lathe1": 5, "washer1": 2}
    # the mill's mean repair is 0.8 h; it has been down 10 minutes
    assert start.down_s == {"mill1": pytest.approx(0.8 * 3600 - 600)}
    assert start.wear_level == {"lathe1": 5.2}  # the mill has no vibration reading yet


async def test_a_study_calibrated_from_the_running_store(sim_app: SimApp) -> None:
    changes, _, _ = mill_failures(np.random.default_rng(8))
    await sim_app.context.store.append_records(changes)
    body = {"scenario": SCENARIO, "replications": 2, "horizon": "1 d", "calibrate": "1000 d"}
    started = await sim_app.http.post("/api/v1/simulations", json=body)
    assert started.status_code == 202, started.text
    await sim_app.service.wait(started.json()["id"])
    done = (await sim_app.http.get(f"/api/v1/simulations/{started.json()['id']}")).json()
    assert done["status"] == "done", done["error"]
    fitted = {
        p["parameter"]: p["detail"]
        for p in done["result"]["provenance"]
        if p["source"] == "history" and p["station"] == "mill1"
    }
    assert set(fitted) == {"time_between_failures", "repair"}
    assert fitted["repair"].startswith("299 values, ")
    bad = await sim_app.http.post(
        "/api/v1/simulations", json={"scenario": SCENARIO, "calibrate": "a while"}
    )
    assert bad.status_code == 422
    assert "calibrate" in bad.text


async def test_running_studies_leave_worker_threads_to_the_store(sim_app: SimApp) -> None:
    """A study holds its thread for as long as it runs; the store's writes use the same
    default worker threads, so studies must not take them all."""
    loop = asyncio.get_running_loop()
    loop.set_default_executor(ThreadPoolExecutor(max_workers=2))
    service = SimulationService(store=sim_app.context.store, clock=sim_app.context.clock, workers=1)
    study = study_for_plant(
        parse_scenario(SCENARIO), sim_app.context.plant, horizon_s=86_400.0, replications=2
    )
    runs = [service.submit(study) for _ in range(3)]
    done_at: list[float] = []

    async def finish(run_id: str) -> None:
        await service.wait(run_id)
        done_at.append(time.monotonic())

    waits = [asyncio.create_task(finish(run.id)) for run in runs]
    for _ in range(10):  # every study gets to its thread
        await asyncio.sleep(0)
    ran_at = await asyncio.to_thread(time.monotonic)  # as a store write would
    await asyncio.gather(*waits)
    assert [run.status for run in runs] == ["done"] * 3, [run.error for run in runs]
    assert ran_at < min(done_at)  # a thread was free at once, not after a study ended

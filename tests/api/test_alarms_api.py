"""Alarm routes over a real twin, rule engine and store (ASGI in process, no socket)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from plantwin.api.app import create_app
from plantwin.api.context import ApiContext
from plantwin.core import ManualClock, RawBatch
from plantwin.core.auth import Role
from plantwin.core.records import AlarmEvent
from plantwin.core.samples import SampleBatch
from plantwin.core.store import RecordQuery
from plantwin.ingest import Ingestor
from plantwin.model.catalog import SignalCatalog
from plantwin.model.plant import Plant
from plantwin.processing.accounts import Accounts
from plantwin.processing.processor import RuleProcessor
from plantwin.store import MemoryStore
from plantwin.twin import TwinState
from tests.helpers import T0, S, accounts_for, bearer

VIB = "changwon.L1.mill1.spindle:vibration_high"


@dataclass
class Setup:
    http: httpx.AsyncClient
    rules: RuleProcessor
    store: MemoryStore
    clock: ManualClock
    feed: Any
    accounts: Accounts


@pytest.fixture
async def setup(example_plant: Plant) -> AsyncIterator[Setup]:
    async with MemoryStore() as store:
        ids = await store.register_signals(list(example_plant.signals))
        catalog = SignalCatalog(example_plant, ids)
        clock = ManualClock(T0)
        twin = TwinState(example_plant, catalog)
        rules = RuleProcessor(twin, catalog, start_ns=T0)
        ingest = Ingestor(catalog, clock)

        async def feed(addresses: list[str], ts: list[int], values: list[float]) -> None:
            batch = ingest.process(RawBatch.of("demo", addresses, ts, values)).batch.canonical()
            update = twin.apply(batch)
            seen = batch
            if len(update.derived):
                seen = SampleBatch.concat([batch, update.derived]).canonical()
            records = rules.process(seen, update.changes)
            await store.append(batch)
            await store.append_records(records)

        context = ApiContext(
            plant=example_plant,
            catalog=catalog,
            twin=twin,
            store=store,
            clock=clock,
            health=lambda: {"status": "ok"},
            accounts=accounts_for(store),
            rules=rules,
        )
        transport = httpx.ASGITransport(app=create_app(context))
        async with httpx.AsyncClient(
            transport=transport, base_url="http://test", headers=await bearer(context.accounts)
        ) as http:
            yield Setup(http, rules, store, clock, feed, context.accounts)


async def _vibration(setup: Setup, start_s: int, values: list[float]) -> None:
    n = len(values)
    await setup.feed(
        ["L1/mill1/spindle/vibration"] * n, [T0 + (start_s + i) * S for i in range(n)], values
    )


async def test_alarm_life_cycle_through_the_api(setup: Setup) -> None:
    http = setup.http
    assert (await http.get("/api/v1/alarms")).json()["alarms"] == []
    # Vibration above 4.5 mm/s for longer than the 10 s on-delay; the 2.8 warning fires too.
    await _vibration(setup, 0, [1.0] * 5 + [5.0] * 40)
    setup.clock.advance(45)
    body = (await http.get("/api/v1/alarms")).json()
    ids = [a["id"] for a in body["alarms"]]
    assert ids == [VIB, "changwon.L1.mill1.spindle:vibration_warning"]  # high priority first
    high = body["alarms"][0]
    assert high["state"] == "unacknowledged"
    assert high["first_out"] is True
    assert body["alarms"][1]["first_out"] is False  # same machine, came second
    assert high["since"] == "2027-01-15T08:00:15Z"  # 5 s normal + 10 s on-delay
    assert "5.0 mm/s above 4.5 mm/s" in high["message"]
    assert body["counts"]["high"] == 1
    only_low = (await http.get("/api/v1/alarms", params={"priority": "low"})).json()
    assert [a["id"] for a in only_low["alarms"]] == ["changwon.L1.mill1.spindle:vibration_warning"]

    kim = await bearer(setup.accounts, "kim", Role.OPERATOR)
    acked = await http.post(
        f"/api/v1/alarms/{VIB}/ack", json={"user": "mallory", "reason": "seen"}, headers=kim
    )
    assert acked.status_code == 200, acked.text
    assert acked.json()["state"] == "acknowledged"
    again = await http.post(f"/api/v1/alarms/{VIB}/ack")
    assert again.status_code == 409
    assert "nothing to acknowledge" in again.json()["error"]["message"]

    # Back to normal below 4.5 - 0.4 deadband: an acknowledged alarm returns to normal.
    await _vibration(setup, 50, [3.0] * 5)
    assert (await http.get(f"/api/v1/alarms/{VIB}")).json()["state"] == "normal"

    # The operator's ack went to the outbox; the stream's transitions went to the store.
    await setup.store.append_records(setup.rules.drain())
    setup.clock.advance(60)
    history = (
        await http.get("/api/v1/alarms/history", params={"alarm": VIB, "start": "-1h"})
    ).json()["events"]
    assert [(e["action"], e["state"]) for e in history] == [
        ("clear", "normal"),
        ("ack", "acknowledged"),
        ("activate", "unacknowledged"),
    ]
    assert history[1]["user"] == "kim"  # the token's user, not what the body says
    assert history[1]["reason"] == "seen"


async def test_shelve_out_of_service_and_errors(setup: Setup) -> None:
    http = setup.http
    await _vibration(setup, 0, [5.0] * 30)
    setup.clock.advance(40)
    shelved = await http.post(f"/api/v1/alarms/{VIB}/shelve", json={"duration": "30m"})
    assert shelved.status_code == 200, shelved.text
    assert shelved.json()["state"] == "shelved"
    assert shelved.json()["shelved_until"] == "2027-01-15T08:30:40Z"
    assert VIB not in [a["id"] for a in (await http.get("/api/v1/alarms")).json()["alarms"]]
    hidden = (await http.get("/api/v1/alarms", params={"hidden": "true"})).json()["alarms"]
    assert VIB in [a["id"] for a in hidden]
    too_long = await http.post(f"/api/v1/alarms/{VIB}/shelve", json={"duration": "9h"})
    assert too_long.status_code == 409
    assert "at most" in too_long.json()["error"]["message"]
    bad = await http.post(f"/api/v1/alarms/{VIB}/shelve", json={"duration": "soon"})
    assert bad.status_code == 400
    unshelved = await http.post(f"/api/v1/alarms/{VIB}/unshelve")
    assert unshelved.json()["state"] == "unacknowledged"  # still active: sounds again

    no_reason = await http.post(f"/api/v1/alarms/{VIB}/out-of-service", json={"reason": " "})
    assert no_reason.status_code == 409
    oos = await http.post(
        f"/api/v1/alarms/{VIB}/out-of-service", json={"reason": "sensor replaced, PTW 118"}
    )
    assert oos.json()["state"] == "out_of_service"
    assert (await http.post(f"/api/v1/alarms/{VIB}/in-service")).json()["state"] == (
        "unacknowledged"
    )
    missing = await http.post("/api/v1/alarms/changwon.L1.mill1:nope/ack")
    assert missing.status_code == 404
    assert "no alarm" in missing.json()["error"]["message"]
    assert (await http.get("/api/v1/alarms", params={"twin": "nowhere"})).status_code == 404
    bad_state = await http.get("/api/v1/alarms", params={"state": "sleepy"})
    assert bad_state.status_code == 422


async def test_rules_list_shows_conditions(setup: Setup) -> None:
    await _vibration(setup, 0, [5.0] * 30)
    body = (await setup.http.get("/api/v1/rules", params={"twin": "changwon.L1.mill1"})).json()
    by_id = {r["id"]: r for r in body["rules"]}
    assert by_id[VIB]["active"] is True
    assert by_id[VIB]["above"] == 4.5
    assert by_id["changwon.L1.mill1.tool:worn"]["active"] is False
    assert all(r["twin"].startswith("changwon.L1.mill1") for r in body["rules"])


async def test_the_same_rule_on_many_twins_groups_into_one_row(setup: Setup) -> None:
    # Both spindles and tools cross their limits at once: rows group by rule.
    await setup.feed(
        ["L1/mill1/tool/wear", "L1/lathe1/tool/wear"] * 2,
        [T0, T0, T0 + S, T0 + S],
        [0.35, 0.36, 0.35, 0.36],
    )
    body = (await setup.http.get("/api/v1/alarms", params={"group": "rule"})).json()
    groups = {g["rule"]: g for g in body["groups"]}
    assert groups["worn"]["count"] == 2
    assert groups["worn"]["twins"] == ["changwon.L1.lathe1.tool", "changwon.L1.mill1.tool"]
    assert groups["wear_warning"]["count"] == 2
    stored = await setup.store.records(RecordQuery(kind=AlarmEvent))
    assert len(stored) == 4
    assert all(isinstance(r, AlarmEvent) and r.action == "activate" for r in stored)

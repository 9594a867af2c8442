"""Command routes over a real twin, store and the in-process demo plant as the machine.

The demo plant (DemoPlant) takes the writes; its readings go through ingest into the twin
here, step by step, so plant time is a ManualClock and each life cycle is deterministic.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from plantwin.api.app import create_app
from plantwin.api.context import ApiContext
from plantwin.core import ManualClock, RawBatch
from plantwin.core.auth import Role
from plantwin.core.clock import Clock
from plantwin.core.connector import Connector
from plantwin.core.records import CommandEvent, CommandStatus
from plantwin.core.store import RecordQuery
from plantwin.ingest import Ingestor
from plantwin.model.catalog import SignalCatalog
from plantwin.model.plant import Plant
from plantwin.processing.accounts import Accounts
from plantwin.processing.commands import CommandService
from plantwin.runtime import connectors as connector_factories
from plantwin.simulation.demo_plant.connector import DemoPlant
from plantwin.simulation.demo_plant.opcua_server import DEMO_NAMESPACE
from plantwin.store import MemoryStore
from plantwin.twin import TwinState
from tests.helpers import T0, accounts_for, bearer

MILL = "changwon.L1.mill1"
COMPRESSOR = "changwon.compressor1"
STATE = {"idle": 0, "running": 1, "setup": 2, "down": 3, "maintenance": 4}


@dataclass
class Setup:
    http: httpx.AsyncClient
    service: CommandService
    store: MemoryStore
    clock: ManualClock
    demo: DemoPlant
    ingest: Ingestor
    twin: TwinState
    accounts: Accounts
    users: dict[str, dict[str, str]] = field(default_factory=dict)  # name -> headers

    async def headers(self, name: str) -> dict[str, str]:
        """An operator's Authorization header (the user is added on first use)."""
        if name not in self.users:
            self.users[name] = await bearer(self.accounts, name, Role.OPERATOR)
        return self.users[name]

    async def feed(self, raw: RawBatch) -> None:
        batch = self.ingest.process(raw).batch.canonical()
        self.twin.apply(batch)
        await self.store.append(batch)

    async def report(self, values: dict[str, float]) -> None:
        """The machine reports ``values`` (addresses of the demo connector) now."""
        now = self.clock.now_ns()
        names = list(values)
        await self.feed(RawBatch.of("demo", names, [now] * len(names), list(values.values())))

    async def run_plant(self, seconds: int) -> None:
        """Advance the simulated line and the clock; its readings reach the twin."""
        self.clock.advance(seconds)
        await self.feed(self.demo.line.advance(seconds))

    async def send(self, **body: Any) -> httpx.Response:
        return await self.http.post(
            "/api/v1/commands", json=body, headers=await self.headers("kim")
        )

    async def audit(self, command_id: str) -> list[CommandStatus]:
        events = await self.store.records(RecordQuery(kind=CommandEvent))
        return [
            e.status for e in reversed(events) if isinstance(e, CommandEvent) and e.id == command_id
        ]


Writers = Callable[[DemoPlant, Plant, Clock], dict[str, Connector]]


@asynccontextmanager
async def opened(plant: Plant, writers: Writers) -> AsyncIterator[Setup]:
    async with MemoryStore() as store:
        catalog = SignalCatalog(plant, await store.register_signals(list(plant.signals)))
        clock = ManualClock(T0)
        twin = TwinState(plant, catalog)
        demo = DemoPlant(plant=plant, clock=clock, seed=7, start_ns=T0)
        service = CommandService(
            plant=plant,
            twin=twin,
            catalog=catalog,
            store=store,
            clock=clock,
            writers=writers(demo, plant, clock),
            poll_s=0.002,
        )
        context = ApiContext(
            plant=plant,
            catalog=catalog,
            twin=twin,
            store=store,
            clock=clock,
            health=lambda: {"status": "ok"},
            accounts=accounts_for(store),
            commands=service,
        )
        transport = httpx.ASGITransport(app=create_app(context))
        async with (
            demo,
            httpx.AsyncClient(
                transport=transport, base_url="http://test", headers=await bearer(context.accounts)
            ) as http,
        ):
            setup = Setup(
                http, service, store, clock, demo, Ingestor(catalog, clock), twin, context.accounts
            )
            await setup.run_plant(30)  # the machines have reported their state and values
            yield setup
        await service.close()


def _demo(demo: DemoPlant, _: Plant, __: Clock) -> dict[str, Connector]:
    return {"demo": demo}


def _unreachable_opcua(_: DemoPlant, plant: Plant, clock: Clock) -> dict[str, Connector]:
    """The demo's OPC UA connector, never connected: every write is refused."""
    conn = connector_factories.demo_over_opcua(
        plant, "demo", "opc.tcp://127.0.0.1:9", DEMO_NAMESPACE, clock
    )
    return {"demo": conn}


@pytest.fixture
async def setup(example_plant: Plant) -> AsyncIterator[Setup]:
    async with opened(example_plant, _demo) as s:
        yield s


async def until_status(setup: Setup, command_id: str, status: str) -> dict[str, Any]:
    for _ in range(500):
        body: dict[str, Any] = (await setup.http.get(f"/api/v1/commands/{command_id}")).json()
        if body["status"] == status:
            return body
        await asyncio.sleep(0.005)
    msg = f"command {command_id} stayed {body['status']}, expected {status}"
    raise AssertionError(msg)


# -- validation ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("twin", "command", "message"),
    [
        ("changwon.L1.mill9", "set_feed_override", "no twin 'changwon.L1.mill9'"),
        (MILL, "set_feed", "has no command 'set_feed'"),
    ],
)
async def test_unknown_twin_or_command_is_404(
    setup: Setup, twin: str, command: str, message: str
) -> None:
    r = await setup.send(twin=twin, command=command, parameters={"percent": 100})
    assert r.status_code == 404
    assert message in r.json()["error"]["message"]


@pytest.mark.parametrize(
    ("parameters", "message"),
    [
        ({}, "missing parameter 'percent'"),
        ({"percent": 100, "speed": 3}, "unknown parameter 'speed'"),
        ({"percent": "fast"}, "parameter 'percent' of set_feed_override must be a number"),
        ({"percent": True}, "parameter 'percent' of set_feed_override must be a number"),
        ({"percent": 130}, "parameter 'percent' of set_feed_override is 130 percent, above its "
         "maximum 120 percent"),
        ({"percent": 20}, "below its minimum 50 percent"),
    ],
)  # fmt: skip
async def test_bad_parameters_are_422_naming_the_parameter(
    setup: Setup, parameters: dict[str, Any], message: str
) -> None:
    r = await setup.send(twin=MILL, command="set_feed_override", parameters=parameters)
    assert r.status_code == 422
    assert message in r.json()["error"]["message"]
    assert setup.demo.line.truth.commands == []
    assert await setup.store.records(RecordQuery(kind=CommandEvent)) == []


async def test_the_requester_is_the_token_user_not_the_body(setup: Setup) -> None:
    await setup.report({"L1/mill1/state": STATE["running"]})
    r = await setup.http.post(
        "/api/v1/commands",
        json={
            "twin": MILL,
            "command": "set_feed_override",
            "parameters": {"percent": 105},
            "user": "mallory",
        },
        headers=await setup.headers("lee"),
    )
    assert r.status_code == 202, r.text
    assert r.json()["requested_by"] == "lee"
    events = await setup.store.records(RecordQuery(kind=CommandEvent))
    assert {e.requested_by for e in events if isinstance(e, CommandEvent)} == {"lee"}


# -- states and interlocks -----------------------------------------------------------------


async def test_a_command_outside_its_allowed_states_is_409_and_audited(setup: Setup) -> None:
    await setup.report({"L1/mill1/state": STATE["down"]})
    r = await setup.send(twin=MILL, command="set_feed_override", parameters={"percent": 110})
    assert r.status_code == 409
    error = r.json()["error"]
    assert error["message"] == (
        "set_feed_override is allowed only in idle, running; changwon.L1.mill1 is down"
    )
    (detail,) = error["detail"]
    assert await setup.audit(detail["command"]) == [CommandStatus.REJECTED]
    assert (await setup.http.get(f"/api/v1/commands/{detail['command']}")).json()[
        "message"
    ] == error["message"]


async def test_an_interlock_blocks_with_its_message(setup: Setup) -> None:
    await setup.report({"L1/mill1/state": STATE["idle"], "L1/mill1/spindle/speed": 1500.0})
    r = await setup.send(twin=MILL, command="set_spindle_speed", parameters={"speed": 2000})
    assert r.status_code == 409
    assert r.json()["error"]["message"] == (
        "interlock 'spindle.speed > 0': the spindle is still turning: wait until it has stopped"
    )
    # Once the spindle has stopped, the same command goes through.
    await setup.report({"L1/mill1/spindle/speed": 0.0})
    r = await setup.send(twin=MILL, command="set_spindle_speed", parameters={"speed": 2000})
    assert r.status_code == 202, r.text
    assert r.json()["status"] == "sent"  # no reported signal: the life cycle ends at sent
    await setup.run_plant(1)
    (applied,) = setup.demo.line.truth.commands
    assert (applied.address, applied.value) == ("L1/mill1/cmd/set_spindle_speed", 2000.0)


# -- life cycle --------------------------------------------------------------------------------


async def test_feed_override_is_acknowledged_when_the_machine_reports_it(setup: Setup) -> None:
    await setup.report({"L1/mill1/state": STATE["running"]})
    r = await setup.send(
        twin=MILL, command="set_feed_override", parameters={"percent": 110}, reason="rush order"
    )
    assert r.status_code == 202
    sent = r.json()
    assert (sent["status"], sent["desired"], sent["requested_by"]) == ("sent", 110.0, "kim")
    desired = (await setup.http.get(f"/api/v1/twins/{MILL}/desired")).json()["properties"]
    feed = next(d for d in desired if d["command"] == "set_feed_override")
    assert (feed["desired"], feed["reported"], feed["in_sync"]) == (110.0, 100.0, False)
    await setup.run_plant(30)  # the mill reports its feed override every 10 s
    done = await until_status(setup, sent["id"], "acknowledged")
    assert done["reported"] == 110.0
    assert [e["status"] for e in done["events"]] == ["accepted", "sent", "acknowledged"]
    assert await setup.audit(sent["id"]) == [
        CommandStatus.ACCEPTED,
        CommandStatus.SENT,
        CommandStatus.ACKNOWLEDGED,
    ]
    desired = (await setup.http.get(f"/api/v1/twins/{MILL}/desired")).json()["properties"]
    feed = next(d for d in desired if d["command"] == "set_feed_override")
    assert (feed["desired"], feed["reported"], feed["in_sync"]) == (110.0, 110.0, True)
    assert feed["status"] == "acknowledged"


async def test_no_matching_report_within_the_timeout_is_timed_out(setup: Setup) -> None:
    await setup.report({"L1/mill1/state": STATE["running"]})
    r = await setup.send(twin=MILL, command="set_feed_override", parameters={"percent": 90})
    sent = r.json()
    assert sent["status"] == "sent"
    setup.clock.advance(59)  # a report of the old value does not acknowledge
    await setup.report({"L1/mill1/feed_override": 100.0})
    await asyncio.sleep(0.05)
    assert (await setup.http.get(f"/api/v1/commands/{sent['id']}")).json()["status"] == "sent"
    setup.clock.advance(2)  # past the 60 s timeout
    done = await until_status(setup, sent["id"], "timed_out")
    assert "no report of 90" in done["message"]
    assert "it shows 100" in done["message"]
    assert (await setup.audit(sent["id"]))[-1] is CommandStatus.TIMED_OUT


async def test_a_refusing_connector_fails_the_command(example_plant: Plant) -> None:
    async with opened(example_plant, _unreachable_opcua) as setup:
        await setup.report({"L1/mill1/state": STATE["running"]})
        r = await setup.send(twin=MILL, command="set_feed_override", parameters={"percent": 90})
        assert r.status_code == 202
        failed = r.json()
        assert failed["status"] == "failed"
        assert "not connected" in failed["message"]
        assert await setup.audit(failed["id"]) == [CommandStatus.ACCEPTED, CommandStatus.FAILED]


# -- critical commands -------------------------------------------------------------------------


async def test_a_critical_command_waits_for_a_second_user(setup: Setup) -> None:
    r = await setup.send(
        twin=COMPRESSOR, command="set_pressure", parameters={"pressure": 6.5}, reason="save air"
    )
    assert r.status_code == 202
    pending = r.json()
    assert (pending["status"], pending["critical"]) == ("pending_approval", True)
    await setup.run_plant(1)
    assert setup.demo.line.truth.commands == []  # nothing sent yet
    url = f"/api/v1/commands/{pending['id']}"
    mine = await setup.http.post(f"{url}/approve", json={}, headers=await setup.headers("kim"))
    assert mine.status_code == 403
    assert "needs the approval of a different user" in mine.json()["error"]["message"]
    lee = await setup.headers("lee")
    ok = await setup.http.post(f"{url}/approve", json={"reason": "checked"}, headers=lee)
    assert ok.status_code == 200, ok.text
    body = ok.json()
    assert (body["status"], body["approved_by"]) == ("sent", "lee")
    await setup.run_plant(1)
    (applied,) = setup.demo.line.truth.commands
    assert applied.address == "changwon/compressor1/cmd/set_pressure"
    assert applied.value == pytest.approx(6.5)  # written in psi, converted back by the machine
    again = await setup.http.post(f"{url}/approve", headers=await setup.headers("park"))
    assert again.status_code == 409
    events = await setup.store.records(RecordQuery(kind=CommandEvent))
    users = [(e.status.value, e.user) for e in reversed(events) if isinstance(e, CommandEvent)]
    assert users == [("pending_approval", "kim"), ("accepted", "lee"), ("sent", "")]


async def test_a_rejected_critical_command_is_never_sent(setup: Setup) -> None:
    r = await setup.send(twin=COMPRESSOR, command="set_pressure", parameters={"pressure": 7.2})
    url = f"/api/v1/commands/{r.json()['id']}"
    lee = await setup.headers("lee")
    rejected = await setup.http.post(f"{url}/reject", json={"reason": "not now"}, headers=lee)
    assert rejected.status_code == 200
    assert rejected.json()["status"] == "rejected"
    park = await setup.headers("park")
    assert (await setup.http.post(f"{url}/approve", headers=park)).status_code == 409
    await setup.run_plant(1)
    assert setup.demo.line.truth.commands == []


async def test_the_list_filters_by_twin_and_status(setup: Setup) -> None:
    await setup.report({"L1/mill1/state": STATE["running"]})
    await setup.send(twin=MILL, command="set_feed_override", parameters={"percent": 95})
    await setup.send(twin=COMPRESSOR, command="set_pressure", parameters={"pressure": 6.8})
    everything = (await setup.http.get("/api/v1/commands")).json()
    assert everything["total"] == 2
    assert [c["command"] for c in everything["commands"]] == ["set_pressure", "set_feed_override"]
    line = (await setup.http.get("/api/v1/commands", params={"twin": "changwon.L1"})).json()
    assert [c["twin"] for c in line["commands"]] == [MILL]
    pending = await setup.http.get("/api/v1/commands", params={"status": "pending_approval"})
    assert [c["command"] for c in pending.json()["commands"]] == ["set_pressure"]
    assert (await setup.http.get("/api/v1/commands/nope")).status_code == 404
    assert (
        await setup.http.get("/api/v1/commands", params={"start": "yesterday"})
    ).status_code == 400


async def test_the_twin_lists_its_commands_with_report_and_interlocks(setup: Setup) -> None:
    detail = (await setup.http.get(f"/api/v1/twins/{MILL}")).json()
    by_name = {c["name"]: c for c in detail["commands"]}
    feed = by_name["set_feed_override"]
    assert (feed["reports"], feed["timeout_s"]) == (f"{MILL}/feed_override", 60.0)
    assert by_name["set_spindle_speed"]["interlocks"] == [
        {
            "when": "spindle.speed > 0",
            "message": "the spindle is still turning: wait until it has stopped",
        }
    ]

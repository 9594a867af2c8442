"""The closed loop through a real runtime: a command posted to the API goes over OPC UA to the
demo machine, the machine reports the new value, and the command is acknowledged and audited."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import duckdb
import httpx
import pytest

from plantwin.core.auth import Role
from plantwin.core.connector import ConnectorStatus
from plantwin.runtime import Runtime
from tests.connectors.test_opcua import until
from tests.runtime.test_demo_opcua import settings

pytestmark = [pytest.mark.integration, pytest.mark.slow]

MILL = "changwon.L1.mill1"


async def test_a_command_is_acknowledged_over_opcua_and_audited(tmp_path: Path) -> None:
    config = settings(tmp_path)
    async with Runtime(config) as runtime:
        serving = asyncio.create_task(runtime.serve())
        conn = runtime.connectors[0]
        sid = runtime.catalog.id(f"{MILL}/feed_override")
        latest = runtime.twin.latest
        await until(lambda: conn.health().status is ConnectorStatus.CONNECTED, "connected")
        await until(lambda: latest.value[sid] == 100.0, "the default feed override")
        state = runtime.twin.states.status[MILL]
        await until(lambda: state.state is not None, "the mill's state")
        base = f"http://127.0.0.1:{config.port}/api/v1"
        kim = await runtime.accounts.add_user("kim", Role.OPERATOR)
        token = (await runtime.accounts.issue(kim.name)).secret
        headers = {"Authorization": f"Bearer {token}"}
        async with httpx.AsyncClient(base_url=base, timeout=10, headers=headers) as http:
            body = {
                "twin": MILL,
                "command": "set_feed_override",
                "parameters": {"percent": 115},
                "reason": "test",
            }
            for _ in range(100):  # the mill may be in setup or down for a while: refused
                r = await http.post("/commands", json=body)
                if r.status_code != 409:
                    break
                assert "set_feed_override is allowed only in idle, running" in r.text
                await asyncio.sleep(0.1)
            assert r.status_code == 202, r.text
            command: dict[str, Any] = r.json()
            assert (command["status"], command["requested_by"]) == ("sent", "kim")
            url = f"/commands/{command['id']}"
            for _ in range(300):  # the mill reports its feed override every 10 plant s
                command = (await http.get(url)).json()
                if command["status"] != "sent":
                    break
                await asyncio.sleep(0.05)
            assert command["status"] == "acknowledged", command
            assert command["reported"] == 115.0
            desired = (await http.get(f"/twins/{MILL}/desired")).json()["properties"]
            feed = next(d for d in desired if d["command"] == "set_feed_override")
            assert (feed["desired"], feed["reported"], feed["in_sync"]) == (115.0, 115.0, True)
        assert latest.value[sid] == 115.0
        assert runtime.demo is not None
        applied = runtime.demo.truth.commands[-1]
        runtime.stop.set()
        await serving
    assert (applied.address, applied.value, applied.accepted) == (
        "L1/mill1/cmd/set_feed_override",
        115.0,
        True,
    )
    with duckdb.connect(config.store, read_only=True) as con:
        rows = con.execute(
            'SELECT status, previous, requested_by, "user", parameters, reason FROM command_events '
            "WHERE id = ? ORDER BY seq",
            [command["id"]],
        ).fetchall()
    assert [r[:4] for r in rows] == [
        ("accepted", None, "kim", "kim"),
        ("sent", "accepted", "kim", ""),
        ("acknowledged", "sent", "kim", ""),
    ]
    assert all(json.loads(r[4]) == {"percent": 115.0} and r[5] == "test" for r in rows)

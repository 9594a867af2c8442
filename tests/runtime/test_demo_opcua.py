"""`plantwin demo` over OPC UA, in process: the simulator's every reading arrives once, and a
command written through the OPC UA connector changes the machine and the twin."""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path

import duckdb
import pytest

from plantwin.core.clock import ScaledClock
from plantwin.core.connector import ConnectorStatus
from plantwin.core.errors import ConnectorError
from plantwin.runtime import Runtime, Settings
from plantwin.simulation.demo_plant import DemoLine
from tests.conftest import EXAMPLE
from tests.connectors.test_opcua import until
from tests.runtime.demo_process import free_port

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def settings(tmp_path: Path) -> Settings:
    return Settings(
        plant=EXAMPLE,
        store=str(tmp_path / "demo.duckdb"),
        port=free_port(),
        demo=True,
        speed=60.0,
        opcua_port=free_port(),
        snapshot_every=1.0,
    )


async def test_demo_over_opcua_stores_every_simulated_reading_once(tmp_path: Path) -> None:
    async with Runtime(settings(tmp_path)) as runtime:
        assert runtime.demo_server is not None
        assert [c.health().kind for c in runtime.connectors] == ["opcua"]
        assert isinstance(runtime.clock, ScaledClock)
        start = runtime.clock.start_ns
        await runtime.serve(duration=6.0)
        stats = runtime.demo_server.stats()
        plant = runtime.plant
    assert stats.published > 1000
    # The same seed and start, simulated directly, gives the readings the server published.
    reference = DemoLine(plant=plant, seed=7, start_ns=start).advance_to(stats.published_through)
    signal_of = {b.address: b.signal for b in plant.bindings if b.connector == "demo"}
    expected = Counter(signal_of[a] for a in reference.address)
    assert sum(expected.values()) == stats.published
    with duckdb.connect(str(tmp_path / "demo.duckdb"), read_only=True) as con:
        rows = con.execute(
            "SELECT g.key, count(*), count(DISTINCT s.ts) FROM samples s "
            "JOIN signals g ON g.id = s.signal GROUP BY g.key"
        ).fetchall()
    stored = {key: n for key, n, _ in rows if key in expected}
    assert stored == dict(expected)
    assert all(n == distinct for _, n, distinct in rows)


async def test_a_command_through_opcua_changes_the_machine_and_the_twin(tmp_path: Path) -> None:
    async with Runtime(settings(tmp_path)) as runtime:
        serving = asyncio.create_task(runtime.serve())
        conn = runtime.connectors[0]
        assert runtime.demo is not None
        sid = runtime.catalog.id("changwon.L1.mill1/feed_override")
        latest = runtime.twin.latest
        await until(lambda: conn.health().status is ConnectorStatus.CONNECTED, "connected")
        await until(lambda: latest.value[sid] == 100.0, "the default feed override")
        await conn.write("L1/mill1/cmd/set_feed_override", 120.0)
        await until(lambda: latest.value[sid] == 120.0, "the new feed override reported")
        command = runtime.demo.truth.commands[-1]
        with pytest.raises(ConnectorError, match="BadOutOfRange"):
            await conn.write("L1/mill1/cmd/set_feed_override", 200.0)
        await asyncio.sleep(0.5)
        runtime.stop.set()
        await serving
    assert (command.address, command.value, command.accepted) == (
        "L1/mill1/cmd/set_feed_override",
        120.0,
        True,
    )
    assert latest.value[sid] == 120.0  # the refused write changed nothing

"""An OPC UA server that goes away mid-subscription and comes back, through the whole runtime.

The guarantee tested: every value the server publishes while the connector's subscription is
active is stored exactly once. The connector notices the loss, reconnects by itself (backoff
with jitter) and subscribes again; the restarted server re-sends each node's current value,
which the store drops as a duplicate. Values a server overwrites while no subscription is
active are not covered: OPC UA keeps only the newest value outside a subscription's queue.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import duckdb
import pytest

from plantwin.core.clock import NS_PER_S
from plantwin.core.connector import ConnectorStatus
from plantwin.runtime import Runtime, Settings
from tests.connectors.opcua_support import NAMESPACE, TestServer
from tests.connectors.test_opcua import T, until
from tests.runtime.demo_process import free_port

pytestmark = [pytest.mark.integration, pytest.mark.slow]

PLANT = """\
plantwin: 1
name: OPC UA restart test
connectors:
  plc: {{kind: opcua, endpoint: "opc.tcp://127.0.0.1:{port}", namespace: "{ns}",
        publishing_interval: 50 ms, reconnect_initial: 100 ms, reconnect_max: 1 s}}
sites:
  s:
    assets:
      m:
        signals:
          a: {{unit: dimensionless}}
          b: {{unit: dimensionless}}
        bindings:
          "*": {{connector: plc, address: "m/{{signal}}"}}
"""
N = 200  # values per signal in each phase


async def publish(srv: TestServer, first: int, count: int) -> None:
    for k in range(first, first + count):
        for name in ("m/a", "m/b"):
            await srv.write(name, float(k), T + k * NS_PER_S)
        if k % 20 == 0:
            await asyncio.sleep(0.01)  # a device publishing over time, not in one burst


async def test_server_restart_loses_and_doubles_nothing_published_while_subscribed(
    tmp_path: Path,
) -> None:
    port = free_port()
    plant = tmp_path / "plant.yaml"
    plant.write_text(PLANT.format(port=port, ns=NAMESPACE))
    store = tmp_path / "r.duckdb"
    settings = Settings(plant=plant, store=str(store), port=free_port(), flush_interval=0.2)
    async with Runtime(settings) as runtime:
        conn = runtime.connectors[0]
        serving = asyncio.create_task(runtime.serve())
        async with TestServer(port, ["m/a", "m/b"]) as srv:
            await until(lambda: conn.health().status is ConnectorStatus.CONNECTED, "connected")
            await publish(srv, 0, N)
            await until(lambda: runtime.pipeline.stats.samples >= 2 * N, "phase 1 stored")
        # the server is gone; the connector notices and retries on its own
        await until(lambda: conn.health().status is ConnectorStatus.RECONNECTING, "loss noticed")
        await asyncio.sleep(1.5)  # a few failed attempts while the server is down
        assert conn.health().status is ConnectorStatus.RECONNECTING
        # the restarted device still holds its last values (same timestamps)
        async with TestServer(
            port, ["m/a", "m/b"], initial=(N - 1.0, T + (N - 1) * NS_PER_S)
        ) as srv:
            await until(lambda: conn.health().status is ConnectorStatus.CONNECTED, "reconnected")
            await publish(srv, N, N)
            await until(lambda: runtime.pipeline.stats.samples >= 4 * N, "phase 2 stored")
            runtime.stop.set()
            await serving
        dropped = runtime.store.stats().duplicates_dropped
    assert dropped >= 2  # the re-sent current values
    with duckdb.connect(str(store), read_only=True) as con:
        rows = con.execute(
            "SELECT s.key, count(*), count(DISTINCT ts), min(value), max(value), "
            "bool_and(value = (ts - ?) // 1000000000) "
            "FROM samples JOIN signals s ON s.id = samples.signal GROUP BY s.key ORDER BY 1",
            [T],
        ).fetchall()
    assert rows == [
        ("s.m/a", 2 * N, 2 * N, 0.0, 2 * N - 1.0, True),
        ("s.m/b", 2 * N, 2 * N, 0.0, 2 * N - 1.0, True),
    ]

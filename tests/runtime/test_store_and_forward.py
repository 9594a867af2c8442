"""Store-and-forward end to end: the real runtime, a private Mosquitto, a DuckDB file.

A broker restart in the middle of a QoS 1 burst: the connector reconnects by itself, acks
wait until samples are durable (MQTT 5, ``ack: stored``), and the store holds every
published (signal, ts) exactly once.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest

from plantwin.runtime import Runtime, Settings
from tests.connectors.burst_publisher import T0_MS
from tests.connectors.mqtt_support import OwnBroker, unique
from tests.runtime.demo_process import free_port
from tests.store.disk_faults import store_disk_refuses_writes

pytestmark = pytest.mark.integration

PLANT = """\
plantwin: 1
name: burst across a broker restart
connectors:
  broker:
    kind: mqtt
    port: {port}
    client_id: {client}
    protocol: "5"
    reconnect_min: 0.05
    reconnect_max: 0.5
sites:
  s1:
    assets:
      press1:
        signals:
          force: {{unit: kN}}
        bindings:
          force: {{connector: broker, address: "{topic}"}}
"""


def spooled(runtime: Runtime) -> int:
    return runtime.store.stats().spooled_samples


async def until(check: Callable[[], bool], seconds: float, what: str) -> None:
    for _ in range(int(seconds / 0.05)):
        if check():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.mark.slow
@pytest.mark.parametrize("store_fails", [False, True], ids=["broker-restart", "and-disk-fault"])
async def test_a_broker_restart_mid_burst_stores_every_sample_once(
    tmp_path: Path, store_fails: bool
) -> None:
    """With ``store_fails`` the store's disk also refuses writes for a second mid-burst:
    samples go to the spool meanwhile (and are acknowledged from there), then drain."""
    broker = OwnBroker(tmp_path)
    broker.start()
    count, rate = 3000, 1000.0
    topic = f"{unique('sf')}/press1/force"
    plant = tmp_path / "plant.yaml"
    plant.write_text(PLANT.format(port=broker.port, client=unique("sf"), topic=topic))
    store = tmp_path / "p.duckdb"
    settings = Settings(plant=plant, store=str(store), port=free_port())
    try:
        async with Runtime(settings) as runtime:
            serving = asyncio.create_task(runtime.serve())
            stats = runtime.pipeline.stats
            publisher = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "tests.connectors.burst_publisher",
                str(broker.port),
                topic,
                str(count),
                str(rate),
                stdout=asyncio.subprocess.PIPE,
            )
            await until(lambda: stats.samples >= count // 3, 20, "a third of the burst")
            if store_fails:
                with store_disk_refuses_writes(store, headroom=16 * 1024):
                    await until(lambda: spooled(runtime) >= 100, 10, "samples in the spool")
                    spooled_at_most = spooled(runtime)
            await asyncio.to_thread(broker.stop)  # mid-burst
            assert stats.samples < count
            await asyncio.sleep(0.5)
            await asyncio.to_thread(broker.start)
            out, _ = await asyncio.wait_for(publisher.communicate(), 90)
            assert publisher.returncode == 0, out
            force = runtime.catalog.id("s1.press1/force")
            await until(
                lambda: runtime.twin.latest.ts[force] == (T0_MS + count - 1) * 1_000_000,
                30,
                "the last sample in the twin",
            )
            await until(lambda: not runtime.pipeline.unconfirmed, 10, "every receipt confirmed")
            health = runtime.health()
            runtime.stop.set()
            await serving
    finally:
        broker.stop()
    connector = health["connectors"][0]
    assert connector["status"] == "connected"
    assert connector["dropped"] == 0
    assert health["pipeline"]["confirmed"] > 0  # acks waited for the store
    assert health["store"]["spooled_samples"] == 0
    if store_fails:
        assert spooled_at_most >= 100
        assert health["store"]["spool_dropped"] == 0
    con = duckdb.connect(str(store), read_only=True)
    try:
        [(rows, pairs)] = con.execute(
            "SELECT count(*), count(DISTINCT (signal, ts)) FROM samples"
        ).fetchall()
        ts = [t for (t,) in con.execute("SELECT ts FROM samples ORDER BY ts").fetchall()]
    finally:
        con.close()
    assert rows == pairs == count  # nothing lost, nothing twice
    assert ts == [(T0_MS + i) * 1_000_000 for i in range(count)]

"""Store-and-forward end to end: the real runtime, a private Mosquitto, a DuckDB file.

A broker restart in the middle of a QoS 1 burst: the connector reconnects by itself, acks
wait until samples are durable (MQTT 5, ``ack: stored``), and the store holds every
published (signal, ts) exactly once.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Callable
from pathlib import Path

import duckdb
import numpy as np
import pytest

from plantwin.bus.memory import MemoryBus
from plantwin.connectors.mqtt import MqttConnector
from plantwin.connectors.mqtt.options import mqtt_options
from plantwin.core.clock import WallClock
from plantwin.core.samples import SampleBatch
from plantwin.ingest import Ingestor
from plantwin.model.catalog import SignalCatalog
from plantwin.model.loader import load_plant
from plantwin.runtime import Runtime, Settings
from plantwin.runtime.pipeline import Pipeline
from plantwin.store import DuckDBStore
from plantwin.store.spool import SampleSpool
from plantwin.twin import TwinState
from tests.connectors.burst_publisher import T0_MS
from tests.connectors.mqtt_support import OwnBroker, Publisher, declared, require_broker, unique
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


# --- spool full while the store fails: refused samples are never acknowledged -------------

REFUSE_PLANT = """\
plantwin: 1
name: spool full
connectors:
  broker: {{kind: mqtt, protocol: "5"}}
sites:
  s1:
    assets:
      press1:
        signals:
          force: {{unit: kN}}
        bindings:
          force: {{connector: broker, address: "{topic}"}}
"""


@pytest.mark.slow
async def test_samples_neither_committed_nor_spooled_are_not_acknowledged(tmp_path: Path) -> None:
    """A tiny spool and a failing disk: what fits neither the spool nor memory is refused and
    never acknowledged; the broker sends it again on the next connection, and every
    published sample ends up stored once."""
    require_broker()
    name = unique("full")
    topic = f"{name}/press1/force"
    plant_file = tmp_path / "plant.yaml"
    plant_file.write_text(REFUSE_PLANT.format(topic=topic))
    plant = load_plant(plant_file)
    count = 300

    def connector(clean: bool = False) -> MqttConnector:
        options = {"client_id": name, "clean_session": clean, "protocol": "5", "ack": "stored"}
        return MqttConnector(mqtt_options(declared("broker", **options)), [topic], WallClock())

    path = tmp_path / "full.duckdb"
    spool = SampleSpool(tmp_path / "full.spool", max_bytes=2_000)  # a segment of a few rows
    try:
        async with connector():
            pass  # subscribed; the broker keeps the session and queues for it
        async with (
            DuckDBStore(path=path, flush_rows=10, flush_interval=0.05, spool=spool) as store,
            MemoryBus() as bus,
        ):
            ids = await store.register_signals(list(plant.signals))
            catalog = SignalCatalog(plant, ids)
            force = catalog.id("s1.press1/force")
            old = np.arange(60_000, dtype=np.int64)  # grows the write-ahead log
            await store.append(SampleBatch.of(np.full(60_000, force), old, old * 1.0))
            await store.flush()

            def pipeline_for(conn: MqttConnector) -> Pipeline:
                return Pipeline(
                    ingestor=Ingestor(catalog, WallClock()),
                    twin=TwinState(plant, catalog),
                    store=store,
                    bus=bus,
                    connectors=[conn],
                    record_flush_s=0.05,
                )

            last_ts = (T0_MS + count - 1) * 1_000_000
            async with connector() as conn:
                first = pipeline_for(conn)
                stop = asyncio.Event()
                runner = asyncio.create_task(first.run(stop))
                with store_disk_refuses_writes(path), Publisher() as publisher:
                    for i in range(5):  # fits the spool: durable, acknowledged
                        publisher.publish(topic, json.dumps({"value": i, "ts": T0_MS + i}))
                    await until(lambda: first.stats.confirmed == 1, 20, "the spooled confirmed")
                    assert store.stats().spooled_samples == 5
                    for i in range(5, count):  # beyond the spool: memory (100), then refused
                        publisher.publish(topic, json.dumps({"value": i, "ts": T0_MS + i}))
                    await until(
                        lambda: first.stats.stored_through == last_ts, 20, "every batch appended"
                    )
                    await asyncio.sleep(0.3)  # the confirm stage retries the flush meanwhile
                    failing = store.stats()
                    assert first.stats.confirmed == 1  # nothing beyond the spool acknowledged
                assert first.stats.samples_refused > 0
                assert failing.spool_refusals > 0
                assert (failing.spooled_samples, failing.spool_dropped) == (5, 0)
                assert failing.pending_samples + first.stats.samples_refused == count - 5
                # The disk is back: memory and spool are written, receipts are confirmed,
                # except those of refused batches.
                await until(lambda: not first.unconfirmed, 20, "every receipt settled")
                await until(lambda: store.stats().spooled_samples == 0, 20, "the spool drained")
                stop.set()
                await runner
            assert first.stats.withheld > 0
            assert store.stats().spool_dropped == 0
            # The next connection: the broker sends the unacknowledged messages again.
            async with connector() as conn:
                second = pipeline_for(conn)
                stop = asyncio.Event()
                runner = asyncio.create_task(second.run(stop))
                await until(
                    lambda: second.stats.samples >= first.stats.samples_refused,
                    20,
                    "the refused messages again",
                )
                await asyncio.sleep(0.5)  # nothing else comes
                stop.set()
                await runner
            again = second.stats.samples
    finally:
        async with connector(clean=True):
            pass  # remove the session from the shared broker
    assert first.stats.samples_refused <= again < count  # the acknowledged ones stay acknowledged
    assert second.stats.samples_refused == 0
    con = duckdb.connect(str(path), read_only=True)
    try:
        [(rows, pairs)] = con.execute(
            "SELECT count(*), count(DISTINCT ts) FROM samples WHERE ts >= ?", [T0_MS * 1_000_000]
        ).fetchall()
        ts = [
            t
            for (t,) in con.execute(
                "SELECT ts FROM samples WHERE ts >= ? ORDER BY ts", [T0_MS * 1_000_000]
            ).fetchall()
        ]
    finally:
        con.close()
    assert rows == pairs == count  # nothing lost, nothing twice
    assert ts == [(T0_MS + i) * 1_000_000 for i in range(count)]

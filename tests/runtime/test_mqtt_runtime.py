"""End to end through the real runtime: MQTT messages reach the live twin and the store."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from plantwin.core.clock import NS_PER_S
from plantwin.core.records import DeadLetter
from plantwin.core.samples import Quality
from plantwin.core.store import HistoryQuery, RecordQuery
from plantwin.runtime import Runtime, Settings
from tests.connectors.mqtt_support import Publisher, require_broker, unique
from tests.connectors.sparkplug_support import EdgeNode, M
from tests.runtime.demo_process import free_port

pytestmark = pytest.mark.integration

PLANT = """\
plantwin: 1
name: MQTT end to end
connectors:
  broker:
    kind: mqtt
    client_id: {prefix}
    clean_session: true
types:
  press:
    properties: {{g: 9.80665 m/s**2}}
    signals:
      force: {{unit: kN, range: [0, 2500]}}
      motor_temp: {{unit: degC, range: [0, 120]}}
      force_t: {{unit: t, expr: force / g}}
    bindings:
      force: {{connector: broker, address: "{prefix}/{{line}}/{{asset}}/force", unit: N}}
      motor_temp: {{connector: broker, address: "{prefix}/{{line}}/{{asset}}/temps:motor"}}
sites:
  s1:
    lines:
      L1:
        assets:
          press1: {{type: press}}
"""


async def test_published_values_reach_the_twin_and_the_store(tmp_path: Path) -> None:
    require_broker()
    prefix = unique("e2e")
    plant = tmp_path / "plant.yaml"
    plant.write_text(PLANT.format(prefix=prefix))
    settings = Settings(plant=plant, store=str(tmp_path / "p.duckdb"), port=free_port())
    now_ms = time.time_ns() // 1_000_000
    async with Runtime(settings) as runtime:
        assert runtime.skipped == {}
        serving = asyncio.create_task(runtime.serve())
        force = runtime.catalog.id("s1.L1.press1/force")
        temp = runtime.catalog.id("s1.L1.press1/motor_temp")
        derived = runtime.catalog.id("s1.L1.press1/force_t")
        with Publisher() as pub:
            records = [{"value": 9806.65 * (i + 1), "ts": now_ms + i} for i in range(5)]
            pub.publish(f"{prefix}/L1/press1/force", json.dumps(records))
            pub.publish(f"{prefix}/L1/press1/temps", json.dumps({"ts": now_ms, "motor": 61.5}))
            pub.publish(f"{prefix}/L1/press1/temps", b"{not json")
        latest = runtime.twin.latest
        for _ in range(200):
            if latest.has(temp) and latest.ts[force] == (now_ms + 4) * 1_000_000:
                break
            await asyncio.sleep(0.05)
        # The live twin: newest force in kN (converted from N), its derived value in t.
        assert latest.value[force] == pytest.approx(49.03325)
        assert latest.value[derived] == pytest.approx(5.0)
        assert latest.value[temp] == 61.5
        assert latest.quality[temp] == Quality.GOOD
        health = runtime.health()
        assert health["connectors"][0]["status"] == "connected"
        assert health["connectors"][0]["samples"] == 6
        runtime.stop.set()
        await serving
        start = now_ms * 1_000_000
        history = await runtime.store.history(
            HistoryQuery(signal=force, start=start, end=start + NS_PER_S)
        )
        dead = await runtime.store.records(RecordQuery(kind=DeadLetter))
    assert history.last.tolist() == pytest.approx([9.80665 * (i + 1) for i in range(5)])
    assert [d.location for d in dead if isinstance(d, DeadLetter)] == [f"{prefix}/L1/press1/temps"]


SPARKPLUG_PLANT = """\
plantwin: 1
name: Sparkplug end to end
connectors:
  spb: {{kind: sparkplug, client_id: host-{group}, clean_session: true}}
sites:
  s1:
    assets:
      filler:
        signals:
          speed: {{unit: 1/min}}
        bindings:
          speed: {{connector: spb, address: "{group}/gw/filler:Outputs/Speed"}}
"""


async def test_a_device_death_shows_its_signal_stale_in_the_twin(tmp_path: Path) -> None:
    require_broker()
    group = unique("G")
    plant = tmp_path / "plant.yaml"
    plant.write_text(SPARKPLUG_PLANT.format(group=group))
    settings = Settings(plant=plant, store=str(tmp_path / "p.duckdb"), port=free_port())
    async with Runtime(settings) as runtime:
        serving = asyncio.create_task(runtime.serve())
        speed = runtime.catalog.id("s1.filler/speed")
        latest = runtime.twin.latest

        async def until(check: Callable[[], bool]) -> None:
            for _ in range(200):
                if check():
                    return
                await asyncio.sleep(0.05)
            raise AssertionError("the twin did not get there in time")

        with Publisher() as pub:
            node = EdgeNode(pub, group, "gw")
            node.nbirth([])
            now_ms = time.time_ns() // 1_000_000
            node.send("DBIRTH", [M("Outputs/Speed", 1, 300.0, ts_ms=now_ms - 2)], "filler")
            node.send("DDATA", [M(None, 1, 310.0, ts_ms=now_ms - 1, send_type=False)], "filler")
            await until(lambda: latest.value[speed] == 310.0)
            assert latest.quality[speed] == Quality.GOOD
            node.send("DDEATH", [], "filler")
            await until(lambda: latest.quality[speed] == Quality.STALE)
            assert latest.value[speed] == 310.0  # the last value, now flagged stale
        runtime.stop.set()
        await serving
        history = await runtime.store.history(
            HistoryQuery(signal=speed, start=0, end=time.time_ns() + NS_PER_S)
        )
    assert history.last.tolist() == [300.0, 310.0, 310.0]
    assert history.quality.tolist() == [0, 0, int(Quality.STALE)]

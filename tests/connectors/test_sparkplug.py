"""Sparkplug B host against the real Mosquitto: births, aliases, deaths, sequence, rebirth."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator, Sequence

import pytest

from plantwin.connectors.mqtt import SparkplugConnector
from plantwin.connectors.mqtt.options import sparkplug_options
from plantwin.connectors.mqtt.sparkplug.metrics import DataType
from plantwin.connectors.mqtt.sparkplug.sparkplug_b_pb2 import Payload
from plantwin.core.clock import WallClock
from plantwin.core.samples import Quality
from tests.connectors.mqtt_support import Publisher, Reader, declared, require_broker, unique
from tests.connectors.sparkplug_support import EdgeNode, M

pytestmark = pytest.mark.integration

STALE = int(Quality.STALE)


@pytest.fixture
def group() -> str:
    require_broker()
    return unique("G")


@pytest.fixture
def publisher() -> Iterator[Publisher]:
    with Publisher() as pub:
        yield pub


def host(group: str, addresses: Sequence[str], **options: object) -> SparkplugConnector:
    options = {"client_id": f"host-{group}", "clean_session": True, **options}
    declared_ = declared("spb", "sparkplug", **options)
    return SparkplugConnector(sparkplug_options(declared_), addresses, WallClock())


def addresses(group: str) -> dict[str, str]:
    return {
        "air": f"{group}/gw:Line/AirPressure",
        "speed": f"{group}/gw/filler:Outputs/Speed",
        "temp": f"{group}/gw/filler:Outputs/Temp",
        "torque": f"{group}/gw/capper:Outputs/Torque",
    }


def birth(node: EdgeNode) -> None:
    node.nbirth([M("Line/AirPressure", 1, 6.1), M("Line/Unbound", 2, 1.0)])
    node.send(
        "DBIRTH",
        [M("Outputs/Speed", 10, 300.0), M("Outputs/Temp", 11, -5, DataType.INT16)],
        "filler",
    )
    node.send("DBIRTH", [M("Outputs/Torque", 20, 2.5, DataType.FLOAT)], "capper")


async def wait_for(predicate: object, seconds: float = 5.0) -> None:
    assert callable(predicate)
    for _ in range(int(seconds / 0.05)):
        if predicate():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("condition not met in time")


async def test_births_then_data_by_alias_with_types_from_the_birth(
    group: str, publisher: Publisher
) -> None:
    a = addresses(group)
    async with host(group, list(a.values())) as conn:
        reader = Reader(conn)
        node = EdgeNode(publisher, group, "gw")
        birth(node)
        # Data by alias only, without data types: Int16 -7 must come back negative.
        node.send(
            "DDATA",
            [
                M(None, 10, 310.0, ts_ms=1_780_000_000_000, send_type=False),
                M(None, 11, -7, DataType.INT16, send_type=False),
            ],
            "filler",
        )
        node.send("NDATA", [M(None, 1, 6.3)])
        await reader.until(lambda r: len(r.rows) == 7)
        await reader.quiet(0.3)
        await reader.close()
    values = [(r.address, r.value) for r in reader.rows]
    assert values == [
        (a["air"], 6.1),
        (a["speed"], 300.0),
        (a["temp"], -5.0),
        (a["torque"], 2.5),
        (a["speed"], 310.0),
        (a["temp"], -7.0),
        (a["air"], 6.3),
    ]
    assert reader.rows[4].ts == 1_780_000_000_000 * 1_000_000  # the metric's own timestamp
    assert all(r.status == 0 for r in reader.rows)
    assert reader.dead == []
    assert conn.host.stats.unbound_metrics >= 2  # bdSeq and Line/Unbound: not dead letters


async def test_sequence_gap_is_a_dead_letter_counts_as_dropped_and_asks_for_rebirth(
    group: str, publisher: Publisher
) -> None:
    a = addresses(group)
    publisher.subscribe(f"spBv1.0/{group}/NCMD/#")
    async with host(group, list(a.values())) as conn:
        reader = Reader(conn)
        node = EdgeNode(publisher, group, "gw")
        birth(node)  # seq 0, 1, 2
        node.skip(2)  # seq 3 and 4 never arrive
        node.send("NDATA", [M(None, 1, 6.4)])  # seq 5
        await reader.until(lambda r: len(r.dead) == 1 and len(r.rows) == 5)
        await wait_for(lambda: len(publisher.received) == 1)
        node.send("NDATA", [M(None, 1, 6.5)])  # seq 6: in order again
        await reader.until(lambda r: len(r.rows) == 6)
        await reader.quiet(0.3)
        await reader.close()
        health = conn.health()
    dead = reader.dead[0]
    assert dead.location == f"{group}/gw"
    assert "expected seq 3, got 5 (2 message(s) missing); rebirth requested" in dead.reason
    assert health.dropped == 2
    assert [r.value for r in reader.rows if r.address == a["air"]] == [6.1, 6.4, 6.5]
    request = publisher.received[0]
    assert request.topic == f"spBv1.0/{group}/NCMD/gw"
    metric = Payload.FromString(bytes(request.payload)).metrics[0]
    assert (metric.name, metric.boolean_value) == ("Node Control/Rebirth", True)


async def test_deaths_mark_signals_stale_and_an_old_death_is_ignored(
    group: str, publisher: Publisher
) -> None:
    a = addresses(group)
    async with host(group, list(a.values())) as conn:
        reader = Reader(conn)
        node = EdgeNode(publisher, group, "gw", bdseq=7)
        birth(node)
        await reader.until(lambda r: len(r.rows) == 4)
        node.send("DDEATH", [], "capper")
        await reader.until(lambda r: len(r.rows) == 5)
        assert reader.rows[-1].address == a["torque"]
        assert reader.rows[-1].status == STALE
        assert reader.rows[-1].value == 2.5
        assert reader.rows[-1].ts > reader.rows[3].ts
        node.ndeath(bdseq=6)  # the will of an earlier session: ignored
        await reader.quiet(0.3)
        assert len(reader.rows) == 5
        node.ndeath()
        await reader.until(lambda r: len(r.rows) == 8)
        await reader.quiet(0.3)
        await reader.close()
    stale = {r.address: r.value for r in reader.rows[5:] if r.status == STALE}
    # The node's and its living device's signals; the capper was stale already.
    assert stale == {a["air"]: 6.1, a["speed"]: 300.0, a["temp"]: -5.0}
    assert conn.host.stats.stale_deaths_ignored == 1
    assert reader.dead == []


async def test_data_before_birth_and_unknown_alias_ask_for_one_rebirth(
    group: str, publisher: Publisher
) -> None:
    a = addresses(group)
    publisher.subscribe(f"spBv1.0/{group}/NCMD/#")
    async with host(group, list(a.values()), rebirth_interval=30) as conn:
        reader = Reader(conn)
        node = EdgeNode(publisher, group, "gw")
        node.seq = 40
        node.send("DDATA", [M(None, 10, 1.0)], "filler")  # host restarted mid-session
        await reader.until(lambda r: len(r.dead) == 1)
        birth(node)
        node.send("DDATA", [M(None, 99, 1.0), M(None, 10, 320.0)], "filler")
        node.send("DDATA", [M(None, 10, 321.0)], "nosuchdevice")
        await reader.until(lambda r: len(r.dead) == 3 and len(r.rows) == 5)
        await reader.quiet(0.3)
        await reader.close()
    reasons = [d.reason for d in reader.dead]
    assert "DDATA from" in reasons[0]
    assert "before its edge node's NBIRTH; rebirth requested" in reasons[0]
    assert "has unknown alias 99; rebirth requested" in reasons[1]
    assert reader.dead[1].location == f"{group}/gw/filler#0"
    assert "before the device's DBIRTH" in reasons[2]
    assert reader.rows[-1].value == 320.0  # the good metric of that message still landed
    assert conn.rebirths_requested == 1  # at most one per node per rebirth_interval
    assert len(publisher.received) == 1


async def test_write_sends_a_device_command_with_the_birth_data_type(
    group: str, publisher: Publisher
) -> None:
    a = addresses(group)
    publisher.subscribe(f"spBv1.0/{group}/DCMD/#")
    setpoint = f"{group}/gw/filler:Setpoints/Speed"
    async with host(group, list(a.values())) as conn:
        reader = Reader(conn)
        node = EdgeNode(publisher, group, "gw")
        birth(node)
        node.send("DBIRTH", [M("Setpoints/Speed", 30, 0, DataType.UINT16)], "filler")

        def born(_: Reader) -> bool:
            edge = conn.host.nodes.get((group, "gw"))
            return edge is not None and ("filler", "Setpoints/Speed") in edge.datatypes

        await reader.until(born)
        await conn.write(setpoint, 280)
        await wait_for(lambda: len(publisher.received) == 1)
        await reader.close()
    message = publisher.received[0]
    assert message.topic == f"spBv1.0/{group}/DCMD/gw/filler"
    metric = Payload.FromString(bytes(message.payload)).metrics[0]
    assert (metric.name, metric.datatype, metric.int_value) == ("Setpoints/Speed", 6, 280)


async def test_primary_host_state_is_published_retained(group: str, publisher: Publisher) -> None:
    host_id = f"plantwin-{group}"
    async with host(group, list(addresses(group).values()), host_id=host_id):
        publisher.subscribe(f"spBv1.0/STATE/{host_id}")
        await wait_for(lambda: len(publisher.received) == 1)
    await wait_for(lambda: len(publisher.received) == 2)
    online, offline = publisher.received
    assert online.retain
    assert json.loads(online.payload)["online"] is True
    assert json.loads(offline.payload)["online"] is False  # said on a clean stop
    publisher.client.publish(f"spBv1.0/STATE/{host_id}", b"", retain=True).wait_for_publish(5)

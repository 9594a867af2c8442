"""MQTT connector with JSON payloads against the real Mosquitto on 127.0.0.1:1883."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator, Sequence

import pytest

from plantwin.connectors.mqtt import MqttConnector
from plantwin.connectors.mqtt.options import mqtt_options
from plantwin.connectors.mqtt.workers import MqttWorkers
from plantwin.core.clock import WallClock
from plantwin.core.connector import ConnectorStatus
from plantwin.core.errors import ConnectorError
from plantwin.core.samples import Quality
from plantwin.model.plant import BindingDef
from tests.connectors.mqtt_support import Publisher, Reader, declared, require_broker, unique
from tests.runtime.demo_process import free_port

pytestmark = pytest.mark.integration

T_MS = 1_780_000_000_000  # 2026-05-28T20:26:40Z in ms
T_NS = T_MS * 1_000_000


def connector(prefix: str, addresses: Sequence[str], **options: object) -> MqttConnector:
    options = {"client_id": prefix, "clean_session": True, **options}
    return MqttConnector(mqtt_options(declared("broker", **options)), addresses, WallClock())


@pytest.fixture
def prefix() -> str:
    require_broker()
    return unique("json")


@pytest.fixture
def publisher() -> Iterator[Publisher]:
    with Publisher() as pub:
        yield pub


async def test_single_values_bare_numbers_and_wildcards(prefix: str, publisher: Publisher) -> None:
    addresses = [f"{prefix}/press1/force", f"{prefix}/press1/count", f"{prefix}/+/meter/power"]
    async with connector(prefix, addresses) as conn:
        assert conn.health().status is ConnectorStatus.CONNECTED
        reader = Reader(conn)
        publisher.publish(f"{prefix}/press1/force", json.dumps({"value": 812.5, "ts": T_MS}))
        publisher.publish(f"{prefix}/press1/count", "17")  # a bare number: time of arrival
        publisher.publish(f"{prefix}/gw7/meter/power", json.dumps({"value": 3.25, "ts": T_MS}))
        await reader.until(lambda r: len(r.rows) == 3)
        await reader.close()
    rows = {r.address: r for r in reader.rows}
    assert rows[f"{prefix}/press1/force"].value == 812.5
    assert rows[f"{prefix}/press1/force"].ts == T_NS
    assert rows[f"{prefix}/press1/count"].value == 17.0
    assert rows[f"{prefix}/press1/count"].ts > T_NS  # received now, not at T
    # The wildcard binding's address is what ingest maps, whatever gateway sent it.
    assert rows[f"{prefix}/+/meter/power"].value == 3.25
    assert reader.dead == []
    assert conn.health().samples == 3
    assert conn.health().status is ConnectorStatus.STOPPED


async def test_a_batch_with_field_paths_time_and_quality(prefix: str, publisher: Publisher) -> None:
    topic = f"{prefix}/oven1/zones"
    addresses = [f"{topic}:z.1", f"{topic}:z.2"]
    payload = {"value": "v", "ts": "t", "quality": "q", "ts_unit": "s"}
    async with connector(prefix, addresses, payload=payload) as conn:
        reader = Reader(conn)
        records = [
            {"t": 1_780_000_000, "z": {"1": 181.5, "2": 176.0}},
            {"t": "2026-05-28T20:26:41Z", "z": {"1": 182.0, "2": 176.5}, "q": "uncertain"},
            {"t": 1_780_000_002.5, "z": {"1": 182.5}},  # a sparse record: only zone 1
        ]
        publisher.publish(topic, json.dumps(records))
        await reader.until(lambda r: len(r.rows) == 5)
        await reader.close()
    zone1 = [(r.ts, r.value, r.status) for r in reader.rows if r.address == f"{topic}:z.1"]
    assert zone1 == [
        (T_NS, 181.5, 0),
        (T_NS + 1_000_000_000, 182.0, int(Quality.UNCERTAIN)),
        (T_NS + 2_500_000_000, 182.5, 0),
    ]
    zone2 = [r.value for r in reader.rows if r.address == f"{topic}:z.2"]
    assert zone2 == [176.0, 176.5]
    assert reader.dead == []


async def test_records_inside_an_object(prefix: str, publisher: Publisher) -> None:
    topic = f"{prefix}/press1/force"
    async with connector(prefix, [topic], payload={"records": "data"}) as conn:
        reader = Reader(conn)
        doc = {"device": "press1", "data": [{"value": 1, "ts": T_MS}, {"value": 2, "ts": T_MS + 1}]}
        publisher.publish(topic, json.dumps(doc))
        await reader.until(lambda r: len(r.rows) == 2)
        await reader.close()
    assert [(r.ts, r.value) for r in reader.rows] == [(T_NS, 1.0), (T_NS + 1_000_000, 2.0)]


async def test_bad_input_becomes_dead_letters_and_the_rest_lands(
    prefix: str, publisher: Publisher
) -> None:
    force, zones = f"{prefix}/press1/force", f"{prefix}/oven1/zones"
    addresses = [force, f"{zones}:z1", f"{zones}:z2"]
    async with connector(
        prefix, addresses, subscribe=[f"{prefix}/#"], payload={"max_bytes": 200}
    ) as conn:
        reader = Reader(conn)
        publisher.publish(force, b'{"value": 1.5, "ts": ')  # malformed JSON
        publisher.publish(force, json.dumps({"value": "high", "ts": T_MS}))  # wrong type
        publisher.publish(f"{prefix}/press9/force", json.dumps({"value": 1}))  # unknown topic
        publisher.publish(force, json.dumps({"value": 1, "pad": "x" * 300}))  # oversized
        publisher.publish(force, json.dumps({"value": 2, "ts": "yesterday"}))  # bad time
        publisher.publish(force, json.dumps({"value": 3, "quality": "great"}))  # bad quality
        publisher.publish(force, json.dumps("on"))  # neither number, record nor list
        batch = [
            {"ts": T_MS, "z1": 180.0, "z2": 170.0},
            {"ts": T_MS + 1, "z1": "n/a", "z2": 171.0},  # one bad field: z2 still lands
            {"ts": T_MS + 2, "other": 1},  # none of the bound fields
            17,  # not a record
            {"ts": T_MS + 3, "z1": 181.0, "z2": 172.0},
        ]
        publisher.publish(zones, json.dumps(batch))
        publisher.publish(force, json.dumps({"value": 4.5, "ts": T_MS}))  # good, after the bad
        await reader.until(lambda r: len(r.dead) == 10 and len(r.rows) == 6)
        await reader.quiet(0.3)
        await reader.close()
    landed = sorted((r.address, r.ts, r.value) for r in reader.rows)
    assert landed == sorted(
        [
            (f"{zones}:z1", T_NS, 180.0),
            (f"{zones}:z2", T_NS, 170.0),
            (f"{zones}:z2", T_NS + 1_000_000, 171.0),
            (f"{zones}:z1", T_NS + 3_000_000, 181.0),
            (f"{zones}:z2", T_NS + 3_000_000, 172.0),
            (force, T_NS, 4.5),
        ]
    )
    by_location = {d.location: d for d in reader.dead}
    reasons = [(d.location, d.reason) for d in reader.dead]
    assert len(reader.dead) == 10, reasons
    assert all(d.source == "broker" for d in reader.dead)
    assert any(d.reason.startswith("not valid JSON") and d.location == force for d in reader.dead)
    assert any("field 'value' must be a finite number" in d.reason for d in reader.dead)
    unknown = by_location[f"{prefix}/press9/force"]
    assert "not bound to any signal" in unknown.reason
    assert unknown.raw == b'{"value": 1}'
    oversized = next(d for d in reader.dead if "larger than payload.max_bytes" in d.reason)
    assert oversized.location == force
    assert any("field 'ts'" in d.reason and "yesterday" in d.reason for d in reader.dead)
    assert any("field 'quality'" in d.reason for d in reader.dead)
    assert any("expected a number, an object or a list" in d.reason for d in reader.dead)
    bad_field = by_location[f"{zones}[1].z1"]
    assert "'n/a'" in bad_field.reason
    assert json.loads(bad_field.raw)["z1"] == "n/a"  # the record itself, not the whole batch
    assert "none of the bound fields (z1, z2)" in by_location[f"{zones}[2]"].reason
    assert "expected a JSON object, got int" in by_location[f"{zones}[3]"].reason


async def test_write_publishes_a_json_command(prefix: str, publisher: Publisher) -> None:
    command = f"{prefix}/press1/cmd/stroke_rate"
    publisher.subscribe(f"{prefix}/press1/cmd/#")
    async with connector(prefix, [f"{prefix}/press1/force"]) as conn:
        await conn.write(command, 22.0)
        await conn.write(f"{command}:setpoint.rate", 23.0)
        with pytest.raises(ConnectorError, match="not a concrete topic"):
            await conn.write(f"{prefix}/+/cmd", 1.0)
    for _ in range(100):
        if len(publisher.received) == 2:
            break
        await asyncio.sleep(0.05)
    first, second = (json.loads(m.payload) for m in publisher.received)
    assert first["value"] == 22.0
    assert first["ts"] > T_MS
    assert second["setpoint"] == {"rate": 23.0}


def test_options_are_checked_with_the_connector_and_option_named() -> None:
    with pytest.raises(ConnectorError, match=r"connectors\.broker\.qoss: unknown option"):
        mqtt_options(declared("broker", qoss=1))
    with pytest.raises(ConnectorError, match=r"connectors\.broker\.qos: must be a whole number"):
        mqtt_options(declared("broker", qos=3))
    with pytest.raises(ConnectorError, match=r"connectors\.broker\.payload\.ts_unit"):
        mqtt_options(declared("broker", payload={"ts_unit": "minutes"}))
    with pytest.raises(ConnectorError, match=r"connectors\.broker\.tls\.ca: file /nonexistent"):
        mqtt_options(declared("broker", tls={"ca": "/nonexistent/ca.pem"}))
    with pytest.raises(ConnectorError, match="'#' must be a whole level"):
        MqttConnector(mqtt_options(declared("broker")), ["a/b#"], WallClock())
    options = mqtt_options(declared("broker", tls=True))
    assert options.connection.port == 8883
    assert options.connection.qos == 1
    assert options.connection.clean_session is False


async def test_a_broker_that_is_not_there_is_reported_not_fatal() -> None:
    port = free_port()
    options = mqtt_options(
        declared("broker", port=port, reconnect_min=0.05, reconnect_max=0.2, client_id=unique())
    )
    async with MqttConnector(options, ["a/b"], WallClock(), connect_timeout=0.3) as conn:
        health = conn.health()
        assert health.status is ConnectorStatus.RECONNECTING
        assert health.last_error is not None
        assert f"127.0.0.1:{port}" in health.last_error
        with pytest.raises(ConnectorError, match="not connected"):
            await conn.write("a/cmd", 1.0)


@pytest.mark.slow
async def test_worker_processes_share_the_subscription_and_lose_nothing(
    prefix: str, publisher: Publisher
) -> None:
    topics = [f"{prefix}/m{i}/power" for i in range(10)]
    options = {"client_id": prefix, "clean_session": True, "workers": 2}
    conn = MqttConnector.from_plant(
        declared("broker", **options), [binding(t) for t in topics], WallClock()
    )
    assert isinstance(conn, MqttWorkers)
    async with conn:
        assert conn.health().status is ConnectorStatus.CONNECTED
        reader = Reader(conn)
        for k in range(400):
            publisher.publish(topics[k % 10], json.dumps({"value": k, "ts": T_MS + k}))
        publisher.publish(topics[0], b"{oops")
        await reader.until(lambda r: len(r.rows) == 400 and len(r.dead) == 1, seconds=20)
        await reader.quiet(0.5)
        await reader.close()
        health = conn.health()
        with pytest.raises(ConnectorError, match="does not publish"):
            await conn.write(topics[0], 1.0)
    assert sorted(int(r.value) for r in reader.rows) == list(range(400))  # each exactly once
    assert health.samples == 400
    assert reader.dead[0].reason.startswith("not valid JSON")
    assert conn.health().status is ConnectorStatus.STOPPED


def binding(address: str) -> BindingDef:
    return BindingDef(
        connector="broker",
        address=address,
        signal="s/x",
        scale=1.0,
        offset=0.0,
        source_unit="kW",
        a=1.0,
        b=0.0,
    )

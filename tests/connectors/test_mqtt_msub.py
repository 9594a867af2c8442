"""``client: mosquitto_sub``: the MQTT connector receiving through Mosquitto's C client."""

from __future__ import annotations

import asyncio
import json
import shutil
from collections.abc import Iterator, Sequence

import pytest

from plantwin.connectors.mqtt import MqttConnector
from plantwin.connectors.mqtt.msub import MsubSession, cut_frames
from plantwin.connectors.mqtt.options import mqtt_options, sparkplug_options
from plantwin.core.clock import WallClock
from plantwin.core.connector import ConnectorStatus
from plantwin.core.errors import ConnectorError
from tests.conftest import require_service
from tests.connectors.mqtt_support import Publisher, Reader, declared, require_broker, unique
from tests.runtime.demo_process import free_port

T_MS = 1_780_000_000_000
T_NS = T_MS * 1_000_000


def connector(prefix: str, addresses: Sequence[str], **options: object) -> MqttConnector:
    options = {"client_id": prefix, "clean_session": True, "client": "mosquitto_sub", **options}
    return MqttConnector(mqtt_options(declared("broker", **options)), addresses, WallClock())


@pytest.fixture
def prefix() -> str:
    require_broker()
    if shutil.which("mosquitto_sub") is None:
        require_service("Mosquitto", "mosquitto_sub is not installed (mosquitto-clients)")
    return unique("msub")


@pytest.fixture
def publisher() -> Iterator[Publisher]:
    with Publisher() as pub:
        yield pub


def test_frames_are_cut_by_length_whatever_the_payload_holds() -> None:
    payloads = [b'{"value": 1}', b'{\n  "value": 2\n}', b"a\tb\0c\n", b""]
    stream = b"".join(b"%d\tt/%d\0%s\n" % (len(p), i, p) for i, p in enumerate(payloads))
    messages, used = cut_frames(stream + b'12\tt/x\0{"val', 7, 3)  # the last one incomplete
    assert [(m.topic, m.payload) for m in messages] == [
        (f"t/{i}", p) for i, p in enumerate(payloads)
    ]
    assert used == len(stream)
    assert {(m.received, m.connection) for m in messages} == {(7, 3)}
    with pytest.raises(ConnectorError, match="out of step"):
        cut_frames(b"3\tt\0abcX", 0, 0)  # the length does not end at a newline
    with pytest.raises(ConnectorError, match="out of step"):
        cut_frames(b"x\tt\0a\n", 0, 0)


def test_options_refuse_what_mosquitto_sub_cannot_do() -> None:
    options = mqtt_options(declared("broker", client="mosquitto_sub", protocol="5"))
    assert options.client == "mosquitto_sub"
    assert options.connection.ack == "received"  # not MQTT 5's default "stored"
    with pytest.raises(ConnectorError, match=r"connectors\.broker\.ack: client mosquitto_sub"):
        mqtt_options(declared("broker", client="mosquitto_sub", ack="stored"))
    with pytest.raises(ConnectorError, match=r"connectors\.broker\.workers: client mosquitto_sub"):
        mqtt_options(declared("broker", client="mosquitto_sub", workers=2))
    with pytest.raises(ConnectorError, match=r"connectors\.broker\.client: must be 'paho' or"):
        mqtt_options(declared("broker", client="hbmqtt"))
    with pytest.raises(ConnectorError, match=r"connectors\.edge\.client: unknown option"):
        sparkplug_options(declared("edge", "sparkplug", client="mosquitto_sub"))
    assert mqtt_options(declared("broker")).client == "paho"


def test_the_command_line_keeps_the_password_out() -> None:
    options = mqtt_options(
        declared(
            "broker",
            client="mosquitto_sub",
            protocol="5",
            username="u",
            password="s3cret",
            client_id="cid",
        )
    )
    session = MsubSession(options.connection, ["a/#", "b/+"])
    command = session.command()
    assert "s3cret" not in command
    assert command[command.index("-u") + 1] == "u"
    assert command[command.index("-i") + 1] == "cid"
    assert command[command.index("-V") : command.index("-V") + 2] == ["-V", "mqttv5"]
    assert "-c" in command  # persistent session by default
    assert [command[i + 1] for i, a in enumerate(command) if a == "-t"] == ["a/#", "b/+"]


async def test_values_bad_input_and_unknown_topics_as_with_paho(
    prefix: str, publisher: Publisher
) -> None:
    force = f"{prefix}/press1/force"
    async with connector(prefix, [force], subscribe=[f"{prefix}/#"]) as conn:
        assert conn.health().status is ConnectorStatus.CONNECTED
        reader = Reader(conn)
        publisher.publish(force, json.dumps({"value": 1.5, "ts": T_MS}))
        publisher.publish(force, b'{"value": 1.5, "ts": ')  # malformed JSON
        publisher.publish(f"{prefix}/press9/force", json.dumps({"value": 1}))  # unknown topic
        publisher.publish(force, b'{\n  "value": 2.5,\n  "ts": %d\n}' % (T_MS + 1))  # newlines
        publisher.publish(force, b"\xff\xfe")  # not UTF-8
        publisher.publish(force, json.dumps([{"value": 3.5, "ts": T_MS + 2}]))
        await reader.until(lambda r: len(r.rows) == 3 and len(r.dead) == 3)
        await reader.quiet(0.3)
        await reader.close()
        with pytest.raises(ConnectorError, match="client mosquitto_sub only receives"):
            await conn.write(f"{prefix}/cmd", 1.0)
    assert sorted((r.ts, r.value) for r in reader.rows) == [
        (T_NS, 1.5),
        (T_NS + 1_000_000, 2.5),
        (T_NS + 2_000_000, 3.5),
    ]
    by_raw = {d.raw: d for d in reader.dead}
    assert by_raw[b'{"value": 1.5, "ts": '].reason.startswith("not valid JSON")
    assert by_raw[b'{"value": 1.5, "ts": '].location == force
    assert "not bound to any signal" in by_raw[b'{"value": 1}'].reason
    assert by_raw[b'{"value": 1}'].location == f"{prefix}/press9/force"
    assert by_raw[b"\xff\xfe"].reason.startswith("not valid JSON")
    assert conn.health().samples == 3
    assert conn.health().status is ConnectorStatus.STOPPED


async def test_a_killed_mosquitto_sub_is_restarted_and_the_session_loses_nothing(
    prefix: str, publisher: Publisher
) -> None:
    topic = f"{prefix}/m1/power"
    async with connector(
        prefix, [topic], clean_session=False, reconnect_min=0.5, reconnect_max=1.0
    ) as conn:
        reader = Reader(conn)
        for k in range(200):
            publisher.publish(topic, json.dumps({"value": k, "ts": T_MS + k}))
        await reader.until(lambda r: len(r.rows) == 200)
        assert isinstance(conn.session, MsubSession)
        conn.session.kill()
        for k in range(200, 400):  # while it is down: the broker queues them for the session
            publisher.publish(topic, json.dumps({"value": k, "ts": T_MS + k}))
        await reader.until(lambda r: len(r.rows) == 400)
        await reader.quiet(0.3)
        health = conn.health()
        await reader.close()
    assert sorted(int(r.value) for r in reader.rows) == list(range(400))  # each exactly once
    assert conn.session.connects == 2
    assert health.status is ConnectorStatus.CONNECTED
    assert health.last_error is not None
    assert "exited with -9" in health.last_error


async def test_a_broker_that_is_not_there_shows_mosquitto_subs_error() -> None:
    if shutil.which("mosquitto_sub") is None:
        require_service("Mosquitto", "mosquitto_sub is not installed (mosquitto-clients)")
    port = free_port()
    options = mqtt_options(
        declared(
            "broker",
            client="mosquitto_sub",
            port=port,
            reconnect_min=0.05,
            reconnect_max=0.2,
            client_id=unique(),
        )
    )
    async with MqttConnector(options, ["a/b"], WallClock(), connect_timeout=0.3) as conn:
        for _ in range(50):
            if conn.health().last_error:
                break
            await asyncio.sleep(0.05)
        health = conn.health()
        assert health.status is ConnectorStatus.RECONNECTING
        assert health.last_error is not None
        assert "Connection refused" in health.last_error, health.last_error

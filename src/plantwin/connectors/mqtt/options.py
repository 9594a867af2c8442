"""Connector options from the plant file's ``connectors:`` entry, checked once at start.

Every problem names the connector and the option (``connectors.line1.qos: ...``), like the
plant file's own problems, so a typo in an option never passes silently.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal, NoReturn

from plantwin.core.errors import ConnectorError
from plantwin.model.plant import ConnectorDef

TsUnit = Literal["s", "ms", "us", "ns"]
TS_UNIT_NS: dict[str, int] = {"s": 1_000_000_000, "ms": 1_000_000, "us": 1_000, "ns": 1}

_CONNECTION_KEYS = {
    "host",
    "port",
    "client_id",
    "username",
    "password",
    "password_env",
    "tls",
    "qos",
    "clean_session",
    "session_expiry",
    "protocol",
    "keepalive",
    "reconnect_min",
    "reconnect_max",
    "max_pending",
    "ack",
}
_MQTT_KEYS = {"subscribe", "share", "payload", "workers", "client"}
_SPARKPLUG_KEYS = {"groups", "host_id", "rebirth_interval"}
_PAYLOAD_KEYS = {"value", "ts", "ts_unit", "quality", "records", "max_bytes"}
_TLS_KEYS = {"ca", "cert", "key", "insecure"}


@dataclass(frozen=True, slots=True, kw_only=True)
class TlsOptions:
    ca: str | None = None  # CA bundle that signed the broker's certificate (system CAs if unset)
    cert: str | None = None  # client certificate, for brokers that authenticate clients by it
    key: str | None = None
    insecure: bool = False  # skip host name checks (test brokers only)


@dataclass(frozen=True, slots=True, kw_only=True)
class ConnectionOptions:
    """How to reach the broker; shared by the JSON and the Sparkplug B connector."""

    name: str  # the connector's name in the plant file
    host: str = "127.0.0.1"
    port: int = 1883
    client_id: str = ""
    username: str | None = None
    password: str | None = None
    tls: TlsOptions | None = None
    qos: int = 1
    clean_session: bool = False  # False: the broker keeps subscriptions and queues QoS 1 messages
    session_expiry: int = 86_400  # MQTT 5: seconds the broker keeps a persistent session
    protocol: Literal["3.1.1", "5"] = "3.1.1"
    keepalive: int = 30
    reconnect_min: float = 0.5  # first reconnect delay, doubled per failure up to reconnect_max
    reconnect_max: float = 30.0
    max_pending: int = 100_000  # received messages held before the network thread waits
    # When QoS 1/2 messages are acknowledged: "stored" once their samples are durable (the
    # store committed them or spooled them to disk), "received" as soon as they are queued.
    # The plant file's default is "stored" for MQTT 5 and "received" for 3.1.1, whose broker
    # in-flight window (Mosquitto: 20) makes late acks overflow the broker's queue in a burst.
    ack: Literal["received", "stored"] = "received"


@dataclass(frozen=True, slots=True, kw_only=True)
class PayloadOptions:
    """Where a JSON record keeps its value, time and quality (dotted field paths)."""

    value: str = "value"
    ts: str | None = "ts"  # missing in a record: the time the message was received
    ts_unit: TsUnit = "ms"  # for numeric times; ISO 8601 strings are always accepted
    quality: str | None = "quality"  # good | uncertain | bad, or 0 | 1 | 2; missing: good
    records: str | None = None  # field holding the list of records when the root is an object
    max_bytes: int = 1_048_576  # larger messages are dead letters


@dataclass(frozen=True, slots=True, kw_only=True)
class MqttOptions:
    connection: ConnectionOptions
    subscribe: tuple[str, ...] = ()  # topic filters; default: the topics of the bindings
    share: str | None = None  # shared-subscription group: several plantwin processes split load
    workers: int = 0  # >0: that many receiving processes share the subscription ($share)
    # "mosquitto_sub": Mosquitto's C client receives in a child process (faster; see msub.py)
    client: Literal["paho", "mosquitto_sub"] = "paho"
    payload: PayloadOptions = field(default_factory=PayloadOptions)


@dataclass(frozen=True, slots=True, kw_only=True)
class SparkplugOptions:
    connection: ConnectionOptions
    groups: tuple[str, ...] = ()  # group ids to follow; default: the groups of the bindings
    host_id: str | None = None  # Sparkplug 3.0 primary host id: publish spBv1.0/STATE/<host_id>
    rebirth_interval: float = 5.0  # at most one rebirth request per edge node in this many s


class _Reader:
    """Reads typed options from a mapping, naming ``connectors.<name>.<key>`` in errors."""

    def __init__(self, where: str, options: Mapping[str, object], known: set[str]) -> None:
        self.where = where
        self.options = options
        unknown = sorted(set(options) - known)
        if unknown:
            self.fail(
                unknown[0],
                f"unknown option; known options are {', '.join(sorted(known))}",
            )

    def fail(self, key: str, message: str) -> NoReturn:
        raise ConnectorError(f"{self.where}.{key}: {message}")

    def text(self, key: str, default: str | None) -> str | None:
        value = self.options.get(key, default)
        if value is not None and (not isinstance(value, str) or not value):
            self.fail(key, f"must be a non-empty string, got {value!r}")
        return value

    def whole(self, key: str, default: int, low: int, high: int) -> int:
        value = self.options.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            self.fail(key, f"must be a whole number from {low} to {high}, got {value!r}")
        return value

    def seconds(self, key: str, default: float) -> float:
        value = self.options.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
            self.fail(key, f"must be a positive number of seconds, got {value!r}")
        return float(value)

    def flag(self, key: str, default: bool) -> bool:
        value = self.options.get(key, default)
        if not isinstance(value, bool):
            self.fail(key, f"must be true or false, got {value!r}")
        return value

    def strings(self, key: str) -> tuple[str, ...]:
        value = self.options.get(key, ())
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list | tuple) or not all(isinstance(v, str) and v for v in value):
            self.fail(key, f"must be a string or a list of strings, got {value!r}")
        return tuple(value)

    def mapping(self, key: str) -> Mapping[str, object] | None:
        value = self.options.get(key)
        if value is None:
            return None
        if not isinstance(value, Mapping):
            self.fail(key, f"must be a mapping, got {value!r}")
        return value


def connection_options(
    declared: ConnectorDef, extra_keys: set[str]
) -> tuple[ConnectionOptions, _Reader]:
    where = f"connectors.{declared.name}"
    read = _Reader(where, declared.options, _CONNECTION_KEYS | extra_keys)
    tls = _tls(read)
    password = read.text("password", None)
    env = read.text("password_env", None)
    if env is not None:
        if password is not None:
            read.fail("password_env", "give either password or password_env, not both")
        password = os.environ.get(env)
        if password is None:
            read.fail("password_env", f"environment variable {env} is not set")
    protocol = read.options.get("protocol", "3.1.1")
    if protocol not in ("3.1.1", "5", 5, 5.0):
        read.fail("protocol", f"must be '3.1.1' or '5', got {protocol!r}")
    low = read.seconds("reconnect_min", 0.5)
    high = read.seconds("reconnect_max", 30.0)
    if high < low:
        read.fail("reconnect_max", f"must not be below reconnect_min ({low})")
    v5 = str(protocol).startswith("5")
    ack = read.options.get("ack", "stored" if v5 else "received")
    if ack not in ("received", "stored"):
        read.fail("ack", f"must be 'received' or 'stored', got {ack!r}")
    options = ConnectionOptions(
        name=declared.name,
        host=read.text("host", "127.0.0.1") or "127.0.0.1",
        port=read.whole("port", 8883 if tls else 1883, 1, 65535),
        client_id=read.text("client_id", f"plantwin-{declared.name}") or "",
        username=read.text("username", None),
        password=password,
        tls=tls,
        qos=read.whole("qos", 1, 0, 2),
        clean_session=read.flag("clean_session", False),
        session_expiry=read.whole("session_expiry", 86_400, 0, 2**32 - 1),
        protocol="5" if v5 else "3.1.1",
        keepalive=read.whole("keepalive", 30, 5, 65535),
        reconnect_min=low,
        reconnect_max=high,
        max_pending=read.whole("max_pending", 100_000, 100, 10_000_000),
        ack="received" if ack == "received" else "stored",
    )
    return options, read


def _tls(read: _Reader) -> TlsOptions | None:
    raw = read.options.get("tls")
    if raw is None or raw is False:
        return None
    if raw is True:
        return TlsOptions()
    if not isinstance(raw, Mapping):
        read.fail("tls", f"must be true or a mapping with ca, cert, key, got {raw!r}")
    sub = _Reader(f"{read.where}.tls", raw, _TLS_KEYS)
    paths = {k: sub.text(k, None) for k in ("ca", "cert", "key")}
    for key, path in paths.items():
        if path is not None and not Path(path).is_file():
            sub.fail(key, f"file {path} does not exist")
    if (paths["cert"] is None) != (paths["key"] is None):
        sub.fail("cert", "cert and key go together")
    return TlsOptions(
        ca=paths["ca"], cert=paths["cert"], key=paths["key"], insecure=sub.flag("insecure", False)
    )


def mqtt_options(declared: ConnectorDef) -> MqttOptions:
    connection, read = connection_options(declared, _MQTT_KEYS)
    raw = read.mapping("payload") or {}
    sub = _Reader(f"{read.where}.payload", raw, _PAYLOAD_KEYS)
    unit = raw.get("ts_unit", "ms")
    if unit not in TS_UNIT_NS:
        sub.fail("ts_unit", f"must be one of s, ms, us, ns, got {unit!r}")
    payload = PayloadOptions(
        value=sub.text("value", "value") or "value",
        ts=sub.text("ts", "ts"),
        ts_unit=unit,  # type: ignore[arg-type]  # checked against TS_UNIT_NS above
        quality=sub.text("quality", "quality"),
        records=sub.text("records", None),
        max_bytes=sub.whole("max_bytes", 1_048_576, 16, 256 * 1_048_576),
    )
    workers = read.whole("workers", 0, 0, 64)
    client = read.options.get("client", "paho")
    if client not in ("paho", "mosquitto_sub"):
        read.fail("client", f"must be 'paho' or 'mosquitto_sub', got {client!r}")
    if client == "mosquitto_sub":
        # It acknowledges on receipt and is one process: refuse what would promise more.
        if read.options.get("ack", "received") != "received":
            read.fail("ack", "client mosquitto_sub acknowledges on receipt: only 'received'")
        if workers:
            read.fail("workers", "client mosquitto_sub is one process: leave workers at 0")
        connection = replace(connection, ack="received")
    return MqttOptions(
        connection=connection,
        subscribe=read.strings("subscribe"),
        share=read.text("share", None),
        payload=payload,
        workers=workers,
        client="mosquitto_sub" if client == "mosquitto_sub" else "paho",
    )


def sparkplug_options(declared: ConnectorDef) -> SparkplugOptions:
    connection, read = connection_options(declared, _SPARKPLUG_KEYS)
    return SparkplugOptions(
        connection=connection,
        groups=read.strings("groups"),
        host_id=read.text("host_id", None),
        rebirth_interval=read.seconds("rebirth_interval", 5.0),
    )

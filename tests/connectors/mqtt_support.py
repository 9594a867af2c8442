"""Helpers for tests against a real Mosquitto: reachability, publishing, reading, own brokers."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Self

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion

from plantwin.core.connector import Connector
from plantwin.core.records import DeadLetter
from plantwin.core.samples import RawBatch
from plantwin.model.plant import ConnectorDef
from tests.conftest import require_service
from tests.runtime.demo_process import free_port

HOST = "127.0.0.1"
SHARED_PORT = 1883


def port_open(port: int, host: str = HOST) -> bool:
    with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=1.0):
        return True
    return False


def require_broker() -> None:
    if not port_open(SHARED_PORT):
        require_service("Mosquitto", f"nothing listens on {HOST}:{SHARED_PORT}")


def require_mosquitto_binary() -> str:
    found = shutil.which("mosquitto") or (
        "/usr/sbin/mosquitto" if Path("/usr/sbin/mosquitto").exists() else None
    )
    if found is None:
        require_service("Mosquitto", "the mosquitto program is not installed")
        raise AssertionError("unreachable")
    return found


def unique(prefix: str = "t") -> str:
    """A topic prefix and client id part no other test (or parallel run) uses."""
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def declared(name: str, kind: str = "mqtt", /, **options: object) -> ConnectorDef:
    return ConnectorDef(name=name, kind=kind, description="", options=options)


@dataclass(frozen=True, slots=True)
class Row:
    address: str
    ts: int
    value: float
    status: int


@dataclass
class Reader:
    """Reads a connector's readings in the background of a test, without cancelling it."""

    connector: Connector
    rows: list[Row] = field(default_factory=list)
    dead: list[DeadLetter] = field(default_factory=list)
    _next: asyncio.Task[RawBatch | DeadLetter] | None = None

    def __post_init__(self) -> None:
        self._it = aiter(self.connector.readings())

    def _take(self, item: RawBatch | DeadLetter) -> None:
        if isinstance(item, DeadLetter):
            self.dead.append(item)
            return
        if item.on_durable is not None:  # kept in memory is as durable as this reader gets
            item.on_durable()
        for a, t, v, s in zip(
            item.address, item.ts.tolist(), item.value.tolist(), item.status.tolist(), strict=True
        ):
            self.rows.append(Row(a, t, v, s))

    async def _step(self, seconds: float) -> bool:
        if self._next is None:
            self._next = asyncio.ensure_future(anext(self._it))
        done, _ = await asyncio.wait({self._next}, timeout=seconds)
        if not done:
            return False
        item = self._next.result()
        self._next = None
        self._take(item)
        return True

    async def until(self, done: Callable[[Reader], bool], seconds: float = 10.0) -> None:
        deadline = time.monotonic() + seconds
        while not done(self):
            left = deadline - time.monotonic()
            if left <= 0:
                msg = f"timed out: {len(self.rows)} rows, {len(self.dead)} dead letters"
                raise AssertionError(msg)
            await self._step(left)

    async def quiet(self, seconds: float = 0.5) -> None:
        """Take whatever arrives until nothing has for ``seconds``."""
        while await self._step(seconds):
            pass

    async def close(self) -> None:
        if self._next is not None:
            self._next.cancel()
            with contextlib.suppress(BaseException):
                await self._next


class Publisher:
    """A plain paho client publishing like a machine would; waits for each QoS 1 PUBACK."""

    def __init__(self, port: int = SHARED_PORT, client_id: str = "") -> None:
        self.client = paho.Client(
            callback_api_version=CallbackAPIVersion.VERSION2, client_id=client_id
        )
        self.client.max_inflight_messages_set(100)
        self.port = port
        self.received: list[paho.MQTTMessage] = []

    def __enter__(self) -> Self:
        self.client.on_message = lambda c, u, m: self.received.append(m)
        self.client.connect(HOST, self.port)
        self.client.loop_start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.client.disconnect()
        self.client.loop_stop()

    def publish(self, topic: str, payload: bytes | str, qos: int = 1) -> None:
        info = self.client.publish(topic, payload, qos=qos)
        info.wait_for_publish(10.0)

    def subscribe(self, topic: str) -> None:
        result, _mid = self.client.subscribe(topic, qos=1)
        assert result == paho.MQTT_ERR_SUCCESS
        time.sleep(0.2)  # let the SUBACK arrive before anything is published


class OwnBroker:
    """A Mosquitto of the test's own on a free port, with persistence, that it may kill."""

    def __init__(self, workdir: Path, settings: Mapping[str, str] | None = None) -> None:
        self.binary = require_mosquitto_binary()
        self.port = free_port()
        self.workdir = workdir
        self.config = workdir / "mosquitto.conf"
        lines = {
            "listener": f"{self.port} {HOST}",
            "allow_anonymous": "true",
            "persistence": "true",
            "persistence_location": f"{workdir}/",
            "user": "root",  # only used when started as root: keep access to workdir
            **(settings or {}),
        }
        self.config.write_text("".join(f"{k} {v}\n" for k, v in lines.items()))
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with (self.workdir / "mosquitto.log").open("ab") as log:
            self.process = subprocess.Popen(
                [self.binary, "-c", str(self.config)], stdout=log, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + 10
        while not port_open(self.port):
            if time.monotonic() > deadline or self.process.poll() is not None:
                msg = f"own mosquitto did not start: see {self.workdir}/mosquitto.log"
                raise AssertionError(msg)
            time.sleep(0.05)

    def stop(self) -> None:
        """SIGTERM: Mosquitto saves its sessions and queued messages, then exits."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)
        self.process = None

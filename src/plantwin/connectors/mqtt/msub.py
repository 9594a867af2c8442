"""``client: mosquitto_sub``: Mosquitto's C client receives, this process only decodes.

Why: paho-mqtt parses MQTT packets in Python, and on a small machine that, not JSON decoding,
bounds how many messages one connector takes (bench/mqtt_msub.py: about 3-4x more single-sample
messages/s parsed through mosquitto_sub than through a bare paho subscriber).

mosquitto_sub runs as a child process, printing each message as ``<length>\\t<topic>\\0<payload>``
and a newline. The length makes the framing exact whatever the payload holds (newlines, bad
UTF-8); MQTT forbids NUL in topics. A reader thread takes the pipe in large chunks, cuts it
into :class:`Message` s and queues them like :class:`Session` does, so the JSON decoding, dead
letters and unknown topics are those of the paho path.

Limits, refused by the options: mosquitto_sub acknowledges QoS 1/2 messages on receipt, so
only ``ack: received``; no ``workers``; it cannot publish (``write`` fails). With a persistent
session (``clean_session: false``, the default) and a fixed ``client_id`` what the broker queued
while the child was down arrives after it is restarted (with backoff) by the reader thread;
messages it had acknowledged but not yet written when it was killed are lost, as with any
``ack: received`` client. Its stderr becomes the connector's ``last_error``. A password goes
to it through a private options file, not its command line (visible to every local user).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import IO, NoReturn

from plantwin.connectors.mqtt.options import ConnectionOptions
from plantwin.connectors.mqtt.session import Inbox, Message
from plantwin.core.backoff import Backoff
from plantwin.core.connector import ConnectorStatus
from plantwin.core.errors import ConnectorError

log = logging.getLogger(__name__)

BINARY = "mosquitto_sub"
FORMAT = "%l\\t%t\\0%p"  # mosquitto_sub adds the newline
CHUNK = 1 << 20
SETTLED_S = 0.5  # alive this long (or printing) counts as connected: it exits when refused


def cut_frames(data: bytes, received: int, connection: int) -> tuple[list[Message], int]:
    """The complete messages at the start of ``data`` and the offset after the last one."""
    out: list[Message] = []
    pos, size = 0, len(data)
    find = data.find
    while True:
        tab = find(b"\t", pos)
        if tab < 0:
            break
        zero = find(b"\0", tab)
        if zero < 0:
            break
        try:
            end = zero + 1 + int(data[pos:tab])
        except ValueError as err:
            msg = f"mosquitto_sub output out of step at {data[pos : pos + 40]!r}"
            raise ConnectorError(msg) from err
        if end >= size:
            break  # the rest of the payload (and its newline) is still in the pipe
        if data[end] != 0x0A:
            msg = f"mosquitto_sub output out of step after {data[pos : pos + 40]!r}"
            raise ConnectorError(msg)
        topic = data[tab + 1 : zero].decode("utf-8", "replace")
        out.append(Message(topic, data[zero + 1 : end], received, 0, 0, connection))
        pos = end + 1
    return out, pos


class MsubSession:
    """The receiving side of :class:`Session` (same queue and life cycle) over mosquitto_sub."""

    def __init__(self, options: ConnectionOptions, subscriptions: Sequence[str]) -> None:
        binary = shutil.which(BINARY)
        if binary is None:
            msg = (
                f"connectors.{options.name}.client: {BINARY} not found (Debian: mosquitto-clients)"
            )
            raise ConnectorError(msg)
        self.binary = binary
        self.options = options
        self.subscriptions = list(subscriptions)
        self.status = ConnectorStatus.STOPPED
        self.last_error: str | None = None
        self.connects = 0  # child processes started
        self.connected_at: int | None = None  # ns since the epoch the current child started
        self.received = 0
        self._stop = threading.Event()
        self.inbox = Inbox(options.max_pending, self._stop)
        self._thread: threading.Thread | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._config: tempfile.TemporaryDirectory[str] | None = None  # from start to close

    def command(self) -> list[str]:
        o = self.options
        args = [self.binary, "-h", o.host, "-p", str(o.port), "-q", str(o.qos), "-F", FORMAT]
        args += ["-k", str(o.keepalive), "-i", o.client_id]
        if o.protocol == "5":
            args += ["-V", "mqttv5"]
        if not o.clean_session:
            args += ["-c"]
            if o.protocol == "5":
                args += ["-x", str(o.session_expiry)]
        if o.username is not None:
            args += ["-u", o.username]
        if o.tls is not None:
            args += ["--cafile", o.tls.ca] if o.tls.ca else ["--tls-use-os-certs"]
            if o.tls.cert and o.tls.key:
                args += ["--cert", o.tls.cert, "--key", o.tls.key]
            if o.tls.insecure:
                args += ["--insecure"]
        for topic in self.subscriptions:
            args += ["-t", topic]
        return args

    def _environment(self) -> dict[str, str]:
        assert self._config is not None
        env = dict(os.environ)
        env["XDG_CONFIG_HOME"] = self._config.name  # mosquitto_sub reads options from there
        if self.options.password is not None:
            path = Path(self._config.name) / "mosquitto_sub"
            path.touch(0o600)
            path.write_text(f"-P {self.options.password}\n")
        return env

    # --- life cycle (event loop side) ---------------------------------------------------

    def start(self) -> None:
        self.inbox.bind()
        self.status = ConnectorStatus.STARTING
        self._config = tempfile.TemporaryDirectory(prefix="plantwin-msub-")
        self._thread = threading.Thread(
            target=self._run, name=f"mosquitto_sub-{self.options.name}", daemon=True
        )
        self._thread.start()

    async def close(self) -> None:
        """Stop the child (it disconnects; the persistent session stays) and the reader."""
        self._stop.set()
        self.inbox.release()
        process = self._process
        if process is not None:
            with contextlib.suppress(ProcessLookupError):
                process.terminate()
        if self._thread is not None:
            await asyncio.to_thread(self._thread.join, 10.0)
        if self._config is not None:
            self._config.cleanup()
        self.status = ConnectorStatus.STOPPED

    async def wait_connected(self, seconds: float) -> bool:
        deadline = time.monotonic() + seconds
        while self.status is not ConnectorStatus.CONNECTED:
            if time.monotonic() > deadline:
                return False
            await asyncio.sleep(0.02)
        return True

    def kill(self) -> None:
        """Kill the child as a crash would (tests): the reader starts another."""
        if self._process is not None:
            self._process.kill()

    # --- messages (event loop side), as Session ------------------------------------------

    async def wait(self) -> None:
        await self.inbox.wait()

    def take(self, limit: int) -> list[Message]:
        return self.inbox.take(limit)

    def confirm(self, messages: Sequence[Message]) -> int:
        return 0  # mosquitto_sub acknowledged them on receipt

    @property
    def pending(self) -> int:
        return len(self.inbox)

    def publish(self, topic: str, payload: bytes, *, qos: int, retain: bool = False) -> NoReturn:
        msg = (
            f"connector '{self.options.name}' cannot publish to '{topic}': "
            "client mosquitto_sub only receives; use client: paho for commands"
        )
        raise ConnectorError(msg)

    # --- reader thread ------------------------------------------------------------------

    def _run(self) -> None:
        o = self.options
        backoff = Backoff(initial=o.reconnect_min, maximum=o.reconnect_max)
        while not self._stop.is_set():
            started = time.monotonic()
            try:
                self._child()
            except (OSError, ConnectorError) as err:
                self._failed(str(err))
            if self._stop.is_set():
                break
            if time.monotonic() - started > o.reconnect_max:
                backoff.reset()
            self._stop.wait(backoff.next())

    def _child(self) -> None:
        process = subprocess.Popen(  # noqa: S603  # our own argument list, no shell
            self.command(),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=self._environment(),
        )
        self._process = process
        if self._stop.is_set():  # close() came before it could see this child
            process.terminate()
        self.connects += 1
        self.connected_at = time.time_ns()  # it connects right away; no CONNACK is printed
        assert process.stdout is not None
        assert process.stderr is not None
        errors: list[str] = []
        drain = threading.Thread(target=_lines, args=(process.stderr, errors), daemon=True)
        drain.start()
        timer = threading.Timer(SETTLED_S, self._settled, args=(process,))
        timer.start()
        try:
            self._read(process.stdout.fileno())
        finally:
            timer.cancel()
            with contextlib.suppress(ProcessLookupError):
                process.terminate()
            code = process.wait(10)
            drain.join(2.0)
            process.stdout.close()
            process.stderr.close()
        if not self._stop.is_set():
            said = "; ".join(errors[-3:]) or "no message"
            self._failed(f"{BINARY} exited with {code}: {said}")

    def _settled(self, process: subprocess.Popen[bytes]) -> None:
        if process.poll() is None and not self._stop.is_set():
            self._connected()

    def _connected(self) -> None:
        if self.status is not ConnectorStatus.CONNECTED:
            if self.status is ConnectorStatus.RECONNECTING:
                log.info("mqtt connector %s: %s running again", self.options.name, BINARY)
            self.status = ConnectorStatus.CONNECTED

    def _read(self, fd: int) -> None:
        rest = b""
        while True:
            chunk = os.read(fd, CHUNK)
            if not chunk:
                return
            self._connected()
            data = rest + chunk if rest else chunk
            messages, used = cut_frames(data, time.time_ns(), self.connects)
            rest = data[used:]
            if messages:
                self._queue_all(messages)

    def _queue_all(self, messages: list[Message]) -> None:
        # Blocks while full: mosquitto_sub then stops reading the socket and the broker holds
        # the rest.
        self.inbox.put(messages)
        self.received += len(messages)

    def _failed(self, error: str) -> None:
        if self.status is not ConnectorStatus.RECONNECTING:
            log.warning("mqtt connector %s: %s; restarting it", self.options.name, error)
        self.last_error = error
        self.status = ConnectorStatus.RECONNECTING


def _lines(stream: IO[bytes], into: list[str]) -> None:
    for line in stream:
        text = line.decode("utf-8", "replace").strip()
        if text:
            into.append(text)
            del into[:-10]

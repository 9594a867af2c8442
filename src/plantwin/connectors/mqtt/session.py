"""One MQTT client session: paho-mqtt on its own network thread, messages handed to asyncio.

Why paho-mqtt 2.x on a thread rather than aiomqtt: aiomqtt runs paho's packet parsing on the
event loop, where it would compete with ingest for every message; here the network thread
reads, parses and queues messages and the event loop wakes once per burst, not per message
(``call_soon_threadsafe`` only when the consumer is waiting).

QoS 1/2 messages are acknowledged when the ``ack`` option says. With ``stored`` (the default)
paho runs with manual acks and :meth:`Session.confirm` acknowledges a message once the pipeline
reports its samples durable (committed to the store or spooled to disk), so a crash of plantwin
before that loses nothing: the broker sends the message again. Acks go out in the order the
messages came (MQTT requires it), and only on the connection that received them: after a
reconnect the broker resends what was not acknowledged, and the store drops the repeats. The
price is throughput bounded by the broker's in-flight window per client (Mosquitto:
``max_inflight_messages``, 20 by default for MQTT 3.1.1; an MQTT 5 client asks for up to 65535
with Receive Maximum) divided by the time to durability; see docs/operations.md.

With ``received`` the network thread acknowledges as soon as a message is queued here: faster,
but messages queued here or in the pipeline before the store commits them are lost if plantwin
crashes.

Either way the queue is bounded (``max_pending``); when it is full the network thread stops
reading, so the broker holds the rest.

Reconnects are done here, not by paho: exponential backoff from ``reconnect_min`` to
``reconnect_max`` with equal jitter (:class:`~plantwin.core.backoff.Backoff`), so a fleet of
clients does not reconnect in lock step after a broker restart.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from plantwin.connectors.mqtt.options import ConnectionOptions
from plantwin.core.backoff import Backoff
from plantwin.core.connector import ConnectorStatus
from plantwin.core.errors import ConnectorError

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Message:
    topic: str
    payload: bytes
    received: int  # ns since the epoch, UTC, when the network thread got it
    mid: int = 0  # packet id, for the acknowledgement of a QoS 1/2 message
    qos: int = 0
    connection: int = 0  # which connection (``Session.connects``) received it


@dataclass(frozen=True, slots=True)
class Will:
    topic: str
    payload: bytes
    qos: int = 1
    retain: bool = False


class Inbox:
    """Messages from a receiving thread to the event loop, bounded.

    The thread blocks while ``max_pending`` messages wait (it stops reading the socket or
    pipe, so the broker holds the rest: QoS 1), and wakes the loop only when the loop waits,
    not once per message. Both receiving sessions (paho, mosquitto_sub) hand over through it.
    """

    def __init__(self, max_pending: int, stop: threading.Event) -> None:
        self.max_pending = max_pending
        self._stop = stop
        self._queue: deque[Message] = deque()
        self._room = threading.Condition()
        self._waiting = False
        self._wake: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def __len__(self) -> int:
        return len(self._queue)

    def bind(self) -> None:
        """Take the running event loop (the session's start)."""
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()

    def release(self) -> None:
        """Unblock a receiving thread waiting for room (the session's close)."""
        with self._room:
            self._room.notify_all()

    # --- receiving thread ------------------------------------------------------------------

    def put(self, messages: list[Message]) -> None:
        queue = self._queue
        if len(queue) >= self.max_pending:
            with self._room:
                while len(queue) >= self.max_pending and not self._stop.is_set():
                    self._room.wait(1.0)
        queue.extend(messages)
        if self._waiting:
            self._waiting = False
            loop, wake = self._loop, self._wake
            if loop is not None and wake is not None:
                with contextlib.suppress(RuntimeError):  # the loop closed during shutdown
                    loop.call_soon_threadsafe(wake.set)

    # --- event loop --------------------------------------------------------------------------

    async def wait(self) -> None:
        """Return when at least one message is queued."""
        assert self._wake is not None
        while not self._queue:
            self._wake.clear()
            self._waiting = True
            if self._queue:  # arrived between the check and the flag: no wake-up was sent
                self._waiting = False
                return
            await self._wake.wait()

    def take(self, limit: int) -> list[Message]:
        """Up to ``limit`` queued messages, oldest first."""
        queue = self._queue
        out = [queue.popleft() for _ in range(min(limit, len(queue)))]
        if out and len(queue) < self.max_pending:
            self.release()
        return out


class Session:
    """A paho client with its own thread, a bounded message queue and jittered reconnects.

    ``on_connected`` runs on the network thread after each successful (re)connection, after
    the subscriptions were sent (the Sparkplug host publishes its STATE there).
    """

    def __init__(
        self,
        options: ConnectionOptions,
        subscriptions: Sequence[str],
        *,
        will: Will | None = None,
        on_connected: Callable[[Session], None] | None = None,
    ) -> None:
        self.options = options
        self.subscriptions = list(subscriptions)
        self.status = ConnectorStatus.STOPPED
        self.last_error: str | None = None
        self.connects = 0
        self.connected_at: int | None = None  # ns since the epoch of the last connection
        self.received = 0
        self._on_connected = on_connected
        self._stop = threading.Event()
        self.inbox = Inbox(options.max_pending, self._stop)
        self._thread: threading.Thread | None = None
        self._manual_ack = options.ack == "stored"
        self._ack_lock = threading.Lock()
        self._acking = -1  # the connection acks may go out on; -1 while there is none
        self._client = self._make_client(will)

    def _make_client(self, will: Will | None) -> paho.Client:
        o = self.options
        v5 = o.protocol == "5"
        client = paho.Client(
            callback_api_version=CallbackAPIVersion.VERSION2,
            client_id=o.client_id,
            clean_session=None if v5 else o.clean_session,
            protocol=paho.MQTTv5 if v5 else paho.MQTTv311,
            reconnect_on_failure=False,
            manual_ack=self._manual_ack,
        )
        client.max_inflight_messages_set(1000)  # our own QoS 1 publishes (commands)
        client.max_queued_messages_set(0)
        if o.username is not None:
            client.username_pw_set(o.username, o.password)
        if o.tls is not None:
            try:
                client.tls_set(
                    ca_certs=o.tls.ca,
                    certfile=o.tls.cert,
                    keyfile=o.tls.key,
                    cert_reqs=ssl.CERT_REQUIRED,
                )
            except (OSError, ssl.SSLError, ValueError) as err:
                msg = f"connectors.{o.name}.tls: {err}"
                raise ConnectorError(msg) from err
            client.tls_insecure_set(o.tls.insecure)
        if will is not None:
            client.will_set(will.topic, will.payload, will.qos, will.retain)
        # With a write hook set, paho never writes to the socket from the caller's thread: acks
        # and publishes from the event loop are queued, and the network thread sends them.
        client.on_socket_register_write = _no_op
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        return client

    # --- life cycle (event loop side) ---------------------------------------------------

    def start(self) -> None:
        self.inbox.bind()
        self.status = ConnectorStatus.STARTING
        self._thread = threading.Thread(
            target=self._run, name=f"mqtt-{self.options.name}", daemon=True
        )
        self._thread.start()

    async def close(self) -> None:
        """Disconnect cleanly (the persistent session stays at the broker) and end the thread."""
        self._stop.set()
        self.inbox.release()
        if self._thread is not None:
            await asyncio.to_thread(self._thread.join, 10.0)
        self.status = ConnectorStatus.STOPPED

    async def wait_connected(self, seconds: float) -> bool:
        """True once connected; False after ``seconds`` (the session keeps trying)."""
        deadline = time.monotonic() + seconds
        while self.status is not ConnectorStatus.CONNECTED:
            if time.monotonic() > deadline:
                return False
            await asyncio.sleep(0.02)
        return True

    # --- messages (event loop side) ------------------------------------------------------

    async def wait(self) -> None:
        """Return when at least one message is queued."""
        await self.inbox.wait()

    def take(self, limit: int) -> list[Message]:
        """Up to ``limit`` queued messages, oldest first."""
        return self.inbox.take(limit)

    def confirm(self, messages: Sequence[Message]) -> int:
        """Acknowledge messages whose samples are durable; the number acknowledged.

        Messages of an earlier connection are skipped: the broker sends them again.
        """
        if not self._manual_ack:
            return 0
        acked = 0
        with self._ack_lock:  # no reconnect between the check and the queued ack
            for m in messages:
                if m.qos and m.connection == self._acking:
                    self._client.ack(m.mid, m.qos)
                    acked += 1
        return acked

    @property
    def pending(self) -> int:
        return len(self.inbox)

    def publish(
        self, topic: str, payload: bytes, *, qos: int, retain: bool = False
    ) -> paho.MQTTMessageInfo:
        """Queue a publish; raise ConnectorError when the broker is not connected."""
        if self.status is not ConnectorStatus.CONNECTED:
            msg = (
                f"connector '{self.options.name}' cannot publish to '{topic}': not connected "
                f"to {self.options.host}:{self.options.port} ({self.last_error or self.status})"
            )
            raise ConnectorError(msg)
        info = self._client.publish(topic, payload, qos=qos, retain=retain)
        if info.rc != MQTTErrorCode.MQTT_ERR_SUCCESS:
            msg = f"connector '{self.options.name}' could not publish to '{topic}': {info.rc.name}"
            raise ConnectorError(msg)
        return info

    def publish_now(self, topic: str, payload: bytes, *, qos: int, retain: bool = False) -> None:
        """Publish from the network thread (inside ``on_connected``), without the status check."""
        self._client.publish(topic, payload, qos=qos, retain=retain)

    # --- network thread -----------------------------------------------------------------

    def _run(self) -> None:
        o = self.options
        backoff = Backoff(initial=o.reconnect_min, maximum=o.reconnect_max)
        while not self._stop.is_set():
            try:
                self._connect()
            except (OSError, ssl.SSLError, ValueError) as err:
                self._failed(f"cannot connect to {o.host}:{o.port}: {err}")
            else:
                connected_at = time.monotonic()
                while not self._stop.is_set():
                    rc = self._client.loop(timeout=0.2)
                    if rc != MQTTErrorCode.MQTT_ERR_SUCCESS:
                        self._failed(self.last_error or f"connection lost: {rc.name}")
                        break
                if self._stop.is_set():
                    break
                if time.monotonic() - connected_at > o.reconnect_max:
                    backoff.reset()  # it had been up for a while: start over
            self._stop.wait(backoff.next())
        with contextlib.suppress(Exception):
            # Send what is queued and DISCONNECT (so the broker keeps any will to itself);
            # paho closes the socket once DISCONNECT is written.
            self._client.disconnect()
            deadline = time.monotonic() + 2.0
            while self._client.socket() is not None and time.monotonic() < deadline:
                self._client.loop(timeout=0.1)

    def _connect(self) -> None:
        o = self.options
        if o.protocol == "5":
            props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
            props.SessionExpiryInterval = 0 if o.clean_session else o.session_expiry
            props.ReceiveMaximum = 65535
            self._client.connect(
                o.host, o.port, o.keepalive, clean_start=o.clean_session, properties=props
            )
        else:
            self._client.connect(o.host, o.port, o.keepalive)

    def _failed(self, error: str) -> None:
        with self._ack_lock:
            self._acking = -1
        if self.status is not ConnectorStatus.RECONNECTING:
            log.warning("mqtt connector %s: %s; reconnecting", self.options.name, error)
        self.last_error = error
        self.status = ConnectorStatus.RECONNECTING

    def _on_connect(
        self,
        client: paho.Client,
        userdata: object,
        flags: paho.ConnectFlags,
        reason: ReasonCode,
        properties: Properties | None,
    ) -> None:
        if reason.is_failure:
            self.last_error = f"broker refused the connection: {reason}"
            return
        qos = self.options.qos
        if self.subscriptions:
            client.subscribe([(topic, qos) for topic in self.subscriptions])
        if self.connects and self.status is ConnectorStatus.RECONNECTING:
            log.info("mqtt connector %s: connected again", self.options.name)
        with self._ack_lock:
            self.connects += 1
            self._acking = self.connects
        self.connected_at = time.time_ns()
        self.status = ConnectorStatus.CONNECTED
        if self._on_connected is not None:
            self._on_connected(self)

    def _on_disconnect(
        self,
        client: paho.Client,
        userdata: object,
        flags: paho.DisconnectFlags,
        reason: ReasonCode,
        properties: Properties | None,
    ) -> None:
        with self._ack_lock:
            self._acking = -1
        if not self._stop.is_set():
            self.last_error = f"disconnected: {reason}"
            self.status = ConnectorStatus.RECONNECTING

    def _on_message(self, client: paho.Client, userdata: object, msg: paho.MQTTMessage) -> None:
        received = time.time_ns()
        message = Message(msg.topic, bytes(msg.payload), received, msg.mid, msg.qos, self.connects)
        self.inbox.put([message])  # blocks while full: backpressure on the socket
        self.received += 1


def _no_op(client: paho.Client, userdata: object, sock: object) -> None:
    return None

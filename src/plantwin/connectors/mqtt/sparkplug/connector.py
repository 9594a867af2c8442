"""``SparkplugConnector``: a Sparkplug B host application on MQTT.

Supports: NBIRTH/DBIRTH with metric aliases and data types, NDATA/DDATA by alias or name,
NDEATH (checked against bdSeq) and DDEATH marking signals stale, sequence numbers with gap
detection, rebirth requests (NCMD ``Node Control/Rebirth``, at most one per node per
``rebirth_interval``), the Sparkplug 3.0 host STATE message (``host_id``), write as NCMD/DCMD,
QoS, persistent sessions, TLS, user/password, reconnect with backoff and jitter.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Sequence
from types import TracebackType

import numpy as np

from plantwin.connectors.mqtt.base import MqttBase, Reading
from plantwin.connectors.mqtt.options import SparkplugOptions, sparkplug_options
from plantwin.connectors.mqtt.session import Message, Session, Will
from plantwin.connectors.mqtt.sparkplug.host import Outcome, SparkplugHost
from plantwin.connectors.mqtt.sparkplug.metrics import (
    NAMESPACE,
    DataType,
    command,
    parse_address,
    rebirth_request,
)
from plantwin.core.clock import Clock
from plantwin.core.errors import ConnectorError
from plantwin.core.samples import RawBatch
from plantwin.model.plant import BindingDef, ConnectorDef

log = logging.getLogger(__name__)


class SparkplugConnector(MqttBase):
    kind = "sparkplug"

    def __init__(
        self,
        options: SparkplugOptions,
        addresses: Sequence[str],
        clock: Clock,
        *,
        connect_timeout: float = 5.0,
    ) -> None:
        name = options.connection.name
        try:
            self.host = SparkplugHost(name, addresses)
        except ConnectorError as err:
            raise ConnectorError(f"connector '{name}': {err}") from err
        self.options = options
        self.clock = clock
        groups = list(options.groups) or self.host.groups() or ["+"]
        filters = [f"{NAMESPACE}/{g}/#" for g in groups]
        will = None
        if options.host_id is not None:
            state = f"{NAMESPACE}/STATE/{options.host_id}"
            will = Will(state, _state(online=False), qos=1, retain=True)
        session = Session(options.connection, filters, will=will, on_connected=self._announce)
        super().__init__(name, session, connect_timeout=connect_timeout)
        self._rebirth_asked: dict[tuple[str, str], float] = {}
        self.rebirths_requested = 0

    @classmethod
    def from_plant(
        cls, declared: ConnectorDef, bindings: Sequence[BindingDef], clock: Clock
    ) -> SparkplugConnector:
        addresses = [b.address for b in bindings if "#" not in b.signal]
        return cls(sparkplug_options(declared), addresses, clock)

    def _announce(self, session: Session) -> None:
        """Sparkplug 3.0: a primary host says it is online (retained) after each connect."""
        if self.options.host_id is not None:
            topic = f"{NAMESPACE}/STATE/{self.options.host_id}"
            session.publish_now(topic, _state(online=True), qos=1, retain=True)

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        # A clean disconnect does not fire the will: say "offline" ourselves (Sparkplug 3.0).
        if self.options.host_id is not None:
            topic = f"{NAMESPACE}/STATE/{self.options.host_id}"
            with contextlib.suppress(ConnectorError, RuntimeError, ValueError):
                info = self.session.publish(topic, _state(online=False), qos=1, retain=True)
                await asyncio.to_thread(info.wait_for_publish, 2.0)
        await super().__aexit__(exc_type, exc, tb)

    def _decode(self, messages: list[Message]) -> list[Reading]:
        out = Outcome()
        missing = self.host.stats.missing_messages
        for message in messages:
            self.host.process(message, out)
        self.dropped += self.host.stats.missing_messages - missing
        for group, node in out.rebirth:
            self._ask_rebirth(group, node)
        readings: list[Reading] = list(out.dead)
        rows = out.rows
        if rows.address:
            readings.append(
                RawBatch(
                    source=self.name,
                    address=rows.address,
                    ts=np.array(rows.ts, np.int64),
                    value=np.array(rows.value, np.float64),
                    status=np.array(rows.status, np.uint8),
                )
            )
        return readings

    def _ask_rebirth(self, group: str, node: str) -> None:
        now = time.monotonic()
        last = self._rebirth_asked.get((group, node))
        if last is not None and now - last < self.options.rebirth_interval:
            return
        topic = f"{NAMESPACE}/{group}/NCMD/{node}"
        try:
            self.session.publish(topic, rebirth_request(), qos=0)
        except ConnectorError as err:
            log.warning("sparkplug connector %s: rebirth request failed: %s", self.name, err)
            return
        self._rebirth_asked[(group, node)] = now
        self.rebirths_requested += 1

    async def write(self, address: str, value: float) -> None:
        """Send an NCMD (node metric) or DCMD (device metric) setting the metric to ``value``."""
        target = parse_address(address)
        node = self.host.nodes.get((target.group, target.node))
        datatype = DataType.DOUBLE
        if node is not None:
            datatype = node.datatypes.get((target.device, target.metric), DataType.DOUBLE)
        kind = "NCMD" if target.device is None else "DCMD"
        topic = f"{NAMESPACE}/{target.group}/{kind}/{target.node}"
        if target.device is not None:
            topic += f"/{target.device}"
        self.session.publish(
            topic, command(target.metric, datatype, value), qos=self.options.connection.qos
        )


def _state(*, online: bool) -> bytes:
    return json.dumps({"online": online, "timestamp": time.time_ns() // 1_000_000}).encode()

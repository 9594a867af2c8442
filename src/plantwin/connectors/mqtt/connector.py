"""``MqttConnector``: JSON over MQTT, topics (with wildcards) and field paths bound to signals.

Supports: subscribe with wildcards, QoS 0/1/2, persistent sessions (clean_session false, MQTT
3.1.1 or 5), TLS (CA, client certificate), user/password, shared subscriptions (``share``),
single values, records and batches with configurable field paths, dead letters for every bad
message or record, write (publish a JSON command), reconnect with backoff and jitter.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence

from plantwin.connectors.mqtt.base import MqttBase, Reading
from plantwin.connectors.mqtt.json_payload import JsonDecoder
from plantwin.connectors.mqtt.msub import MsubSession
from plantwin.connectors.mqtt.options import TS_UNIT_NS, MqttOptions, mqtt_options
from plantwin.connectors.mqtt.session import Message, Session
from plantwin.connectors.mqtt.topics import (
    FieldPath,
    TopicRouter,
    check_topic,
    parse_path,
    split_address,
)
from plantwin.connectors.mqtt.workers import MqttWorkers
from plantwin.core.clock import Clock
from plantwin.core.connector import Connector
from plantwin.core.errors import ConnectorError
from plantwin.model.plant import BindingDef, ConnectorDef


class MqttConnector(MqttBase):
    kind = "mqtt"

    def __init__(
        self,
        options: MqttOptions,
        addresses: Sequence[str],
        clock: Clock,
        *,
        connect_timeout: float = 5.0,
    ) -> None:
        name = options.connection.name
        for address in [*addresses, *options.subscribe]:
            problem = check_topic(split_address(address)[0])
            if problem is not None:
                msg = f"connector '{name}': address '{address}': {problem}"
                raise ConnectorError(msg)
        self.options = options
        self.clock = clock
        self.router = TopicRouter(addresses)
        filters = list(options.subscribe) or self.router.topics()
        if options.share is not None:
            filters = [f"$share/{options.share}/{f}" for f in filters]
        session: Session | MsubSession
        if options.client == "mosquitto_sub":
            session = MsubSession(options.connection, filters)
        else:
            session = Session(options.connection, filters)
        super().__init__(name, session, connect_timeout=connect_timeout)
        self.decoder = JsonDecoder(name, self.router, options.payload)

    @classmethod
    def from_plant(
        cls, declared: ConnectorDef, bindings: Sequence[BindingDef], clock: Clock
    ) -> Connector:
        """The connector a plant file declares: this class, or worker processes (``workers``)."""
        # Command bindings ("<twin>#<command>") are written to, not subscribed to.
        addresses = [b.address for b in bindings if "#" not in b.signal]
        options = mqtt_options(declared)
        if options.workers:
            cls(dataclasses.replace(options, workers=0), addresses, clock)  # check addresses now
            return MqttWorkers(options, addresses, clock)
        return cls(options, addresses, clock)

    def _decode(self, messages: list[Message]) -> list[Reading]:
        batch, dead = self.decoder.decode(messages)
        out: list[Reading] = list(dead)
        if batch is not None:
            out.append(batch)
        return out

    async def write(self, address: str, value: float) -> None:
        """Publish ``{"<value field>": value, "<ts field>": now}`` to the address's topic.

        ``TOPIC:FIELD.PATH`` nests the value under that path instead of the default field.
        """
        topic, field = split_address(address)
        if check_topic(topic) is not None or "+" in topic or "#" in topic:
            msg = f"connector '{self.name}' cannot publish to '{address}': not a concrete topic"
            raise ConnectorError(msg)
        options = self.options.payload
        record: dict[str, object] = {}
        if options.ts is not None:
            now = self.clock.now_ns() // TS_UNIT_NS[options.ts_unit]
            _put(record, parse_path(options.ts), now)
        _put(record, parse_path(field or options.value), value)
        self.session.publish(topic, json.dumps(record).encode(), qos=self.options.connection.qos)


def _put(record: dict[str, object], path: FieldPath, value: object) -> None:
    target = record
    for key in path[:-1]:
        inner = target.setdefault(str(key), {})
        if not isinstance(inner, dict):
            msg = f"field path {'.'.join(map(str, path))} clashes with another field"
            raise ConnectorError(msg)
        target = inner
    target[str(path[-1])] = value

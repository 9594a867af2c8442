"""Sparkplug B host state: which edge nodes and devices are alive, their aliases and sequence.

Pure logic, no I/O: :meth:`SparkplugHost.process` turns one message into sample rows, dead
letters and the edge nodes that should be asked to rebirth; the connector does the network.

- NBIRTH/DBIRTH record each metric's name, alias and data type (data messages may carry only
  the alias and no type) and give the current values.
- NDATA/DDATA are read by alias or name. Data from a node or device without a birth, or with
  an unknown alias, is a dead letter and asks the node to rebirth.
- ``seq`` (0-255) must grow by one per message of an edge node (NBIRTH sets it). A gap is a
  dead letter naming how many messages are missing, counted as dropped, and asks for a rebirth;
  the message itself is still read.
- NDEATH (whose ``bdSeq`` must match the current NBIRTH's; an older death is ignored) and DDEATH
  mark the node's or device's bound signals stale: each gets one more sample, its last value
  flagged ``Quality.STALE``, at the time of death (after its last sample). The next birth
  brings fresh, good values.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from google.protobuf.message import DecodeError

from plantwin.connectors.mqtt.session import Message
from plantwin.connectors.mqtt.sparkplug.metrics import (
    BDSEQ_METRIC,
    MessageType,
    Topic,
    ValueProblemError,
    metric_value,
    parse_address,
    parse_topic,
)
from plantwin.connectors.mqtt.sparkplug.sparkplug_b_pb2 import Payload
from plantwin.core.records import DeadLetter
from plantwin.core.samples import Quality

STALE = int(Quality.STALE)
_BIRTHS = (MessageType.NBIRTH, MessageType.DBIRTH)


@dataclass(slots=True)
class Rows:
    address: list[str] = field(default_factory=list)
    ts: list[int] = field(default_factory=list)
    value: list[float] = field(default_factory=list)
    status: list[int] = field(default_factory=list)

    def add(self, address: str, ts: int, value: float, status: int = 0) -> None:
        self.address.append(address)
        self.ts.append(ts)
        self.value.append(value)
        self.status.append(status)


@dataclass(slots=True)
class EdgeNode:
    online: bool = False
    bdseq: int | None = None
    next_seq: int = 0
    devices: set[str] = field(default_factory=set)  # devices alive (born, not dead)
    aliases: dict[int, tuple[str | None, str]] = field(default_factory=dict)  # -> device, name
    datatypes: dict[tuple[str | None, str], int] = field(default_factory=dict)


@dataclass(slots=True)
class HostStats:
    messages: int = 0
    seq_gaps: int = 0
    missing_messages: int = 0  # counted from sequence gaps
    stale_deaths_ignored: int = 0  # NDEATH with the bdSeq of an earlier session
    unbound_metrics: int = 0  # metrics no binding asks for (not dead letters)


@dataclass(slots=True)
class Outcome:
    rows: Rows = field(default_factory=Rows)
    dead: list[DeadLetter] = field(default_factory=list)
    rebirth: set[tuple[str, str]] = field(default_factory=set)  # (group, node)


class SparkplugHost:
    def __init__(self, source: str, addresses: Iterable[str]) -> None:
        self.source = source
        self.bound: dict[tuple[str, str], str] = {}  # (where, metric) -> address
        for address in addresses:
            parsed = parse_address(address)
            self.bound[(parsed.where, parsed.metric)] = address
        self.nodes: dict[tuple[str, str], EdgeNode] = {}
        self.last: dict[str, tuple[int, float]] = {}  # address -> newest (ts, value) handed out
        self.stats = HostStats()

    def groups(self) -> list[str]:
        return sorted({where.split("/")[0] for where, _ in self.bound})

    def process(self, message: Message, out: Outcome) -> None:
        parsed = self._parse(message, out)
        if parsed is None:
            return
        topic, payload = parsed
        self.stats.messages += 1
        node = self.nodes.setdefault((topic.group, topic.node), EdgeNode())
        if topic.type is MessageType.NDEATH:
            self._node_death(node, topic, payload, message, out)
        elif self._in_session(node, topic, payload, message, out):
            if topic.type is MessageType.DDEATH:
                assert topic.device is not None
                node.devices.discard(topic.device)
                self._mark_stale(out, topic.where, message.received)
            else:
                self._metrics(node, topic, payload, message, out)

    def _parse(self, message: Message, out: Outcome) -> tuple[Topic, Payload] | None:
        topic = parse_topic(message.topic)
        if topic is None:
            self._dead(out, message, message.topic, "not a Sparkplug B topic")
            return None
        if topic.type in (MessageType.STATE, MessageType.NCMD, MessageType.DCMD):
            return None  # host states and commands (ours or another host's) carry no readings
        try:
            return topic, Payload.FromString(message.payload)
        except DecodeError as err:
            self._dead(out, message, message.topic, f"not a Sparkplug B payload: {err}")
            return None

    def _in_session(
        self, node: EdgeNode, topic: Topic, payload: Payload, message: Message, out: Outcome
    ) -> bool:
        """Births start sessions; other messages need one (and the next seq) to be read."""
        key = (topic.group, topic.node)
        if topic.type is MessageType.NBIRTH:
            self._node_birth(node, payload)
            return True
        if not node.online:
            why = f"{topic.type} from {topic.where} before its edge node's NBIRTH"
            self._dead(out, message, topic.where, why + "; rebirth requested")
            out.rebirth.add(key)
            return False
        self._check_seq(node, topic, payload, message, out)
        if topic.type is MessageType.DBIRTH:
            assert topic.device is not None
            node.devices.add(topic.device)
            for alias in [a for a, (d, _) in node.aliases.items() if d == topic.device]:
                del node.aliases[alias]
        elif (
            topic.type is MessageType.DDATA
            and topic.device is not None
            and topic.device not in node.devices
        ):
            why = f"{topic.type} from {topic.where} before the device's DBIRTH"
            self._dead(out, message, topic.where, why + "; rebirth requested")
            out.rebirth.add(key)
            return False
        return True

    def _node_birth(self, node: EdgeNode, payload: Payload) -> None:
        node.online = True
        node.devices.clear()
        node.aliases.clear()
        node.datatypes.clear()
        node.next_seq = (payload.seq + 1) % 256
        node.bdseq = None
        for metric in payload.metrics:
            if metric.name == BDSEQ_METRIC and metric.WhichOneof("value"):
                node.bdseq = int(metric_value(metric, metric.datatype))

    def _node_death(
        self, node: EdgeNode, topic: Topic, payload: Payload, message: Message, out: Outcome
    ) -> None:
        bdseq = next(
            (
                int(metric_value(m, m.datatype))
                for m in payload.metrics
                if m.name == BDSEQ_METRIC and m.WhichOneof("value")
            ),
            None,
        )
        if bdseq is not None and node.bdseq is not None and bdseq != node.bdseq:
            # The will of an earlier session, delivered late: this session is still alive.
            self.stats.stale_deaths_ignored += 1
            return
        node.online = False
        node.devices.clear()
        self._mark_stale(out, topic.where, message.received)

    def _check_seq(
        self, node: EdgeNode, topic: Topic, payload: Payload, message: Message, out: Outcome
    ) -> None:
        got = payload.seq if payload.HasField("seq") else None
        expected = node.next_seq
        if got == expected:
            node.next_seq = (expected + 1) % 256
            return
        if got is None:
            why = f"{topic.type} from {topic.where} has no sequence number; rebirth requested"
            self._dead(out, message, topic.where, why)
            out.rebirth.add((topic.group, topic.node))
            return
        missing = (got - expected) % 256
        self.stats.seq_gaps += 1
        self.stats.missing_messages += missing
        why = (
            f"sequence gap from edge node {topic.group}/{topic.node}: expected seq {expected}, "
            f"got {got} ({missing} message(s) missing); rebirth requested"
        )
        self._dead(out, message, topic.where, why)
        out.rebirth.add((topic.group, topic.node))
        node.next_seq = (got + 1) % 256

    def _metrics(
        self, node: EdgeNode, topic: Topic, payload: Payload, message: Message, out: Outcome
    ) -> None:
        birth = topic.type in _BIRTHS
        default_ts = payload.timestamp * 1_000_000 if payload.HasField("timestamp") else None
        where = topic.where
        for i, metric in enumerate(payload.metrics):
            name = metric.name if metric.HasField("name") else None
            if birth and name is not None:
                node.datatypes[(topic.device, name)] = metric.datatype
                if metric.HasField("alias"):
                    node.aliases[metric.alias] = (topic.device, name)
            elif name is None:
                found = node.aliases.get(metric.alias) if metric.HasField("alias") else None
                if found is None or found[0] != topic.device:
                    why = (
                        f"metric {i} of {topic.type} from {where} has unknown alias "
                        f"{metric.alias}; rebirth requested"
                    )
                    self._dead(out, message, f"{where}#{i}", why)
                    out.rebirth.add((topic.group, topic.node))
                    continue
                name = found[1]
            address = self.bound.get((where, name))
            if address is None:
                self.stats.unbound_metrics += 1
                continue
            datatype = metric.datatype or node.datatypes.get((topic.device, name), 0)
            try:
                value = metric_value(metric, datatype)
            except ValueProblemError as err:
                self._dead(out, message, f"{where}:{name}", f"metric '{name}': {err}")
                continue
            if metric.HasField("timestamp"):
                ts = metric.timestamp * 1_000_000
            else:
                ts = default_ts if default_ts is not None else message.received
            out.rows.add(address, ts, value)
            newest = self.last.get(address)
            if newest is None or ts >= newest[0]:
                self.last[address] = (ts, value)

    def _mark_stale(self, out: Outcome, where: str, received: int) -> None:
        """One STALE sample with the last value for each bound signal at or under ``where``."""
        prefix = where + "/"
        for (bound_where, _), address in self.bound.items():
            if bound_where != where and not bound_where.startswith(prefix):
                continue
            newest = self.last.pop(address, None)  # stale once: a second death adds nothing
            if newest is None:
                continue
            ts, value = newest
            out.rows.add(address, max(received, ts + 1), value, STALE)

    def _dead(self, out: Outcome, message: Message, location: str, reason: str) -> None:
        out.dead.append(
            DeadLetter(
                received=message.received,
                source=self.source,
                reason=reason,
                raw=message.payload,
                location=location,
            )
        )

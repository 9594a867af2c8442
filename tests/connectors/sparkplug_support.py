"""A minimal Sparkplug B edge node for tests: births, data by alias, deaths, sequence numbers."""

from __future__ import annotations

import time
from dataclasses import dataclass

from plantwin.connectors.mqtt.sparkplug.metrics import DataType, set_value
from plantwin.connectors.mqtt.sparkplug.sparkplug_b_pb2 import Payload
from tests.connectors.mqtt_support import Publisher


@dataclass(frozen=True, slots=True)
class M:
    """A metric: name (births), alias, data type and value; ``name=None`` sends the alias only."""

    name: str | None
    alias: int
    value: float
    datatype: int = DataType.DOUBLE
    ts_ms: int | None = None
    send_type: bool = True


class EdgeNode:
    def __init__(self, publisher: Publisher, group: str, node: str, bdseq: int = 0) -> None:
        self.pub = publisher
        self.group = group
        self.node = node
        self.bdseq = bdseq
        self.seq = 0

    def topic(self, kind: str, device: str | None = None) -> str:
        base = f"spBv1.0/{self.group}/{kind}/{self.node}"
        return base if device is None else f"{base}/{device}"

    def payload(self, metrics: list[M], *, seq: int | None) -> bytes:
        payload = Payload(timestamp=time.time_ns() // 1_000_000)
        if seq is not None:
            payload.seq = seq
        for m in metrics:
            metric = payload.metrics.add()
            if m.name is not None:
                metric.name = m.name
            metric.alias = m.alias
            if m.ts_ms is not None:
                metric.timestamp = m.ts_ms
            set_value(metric, m.datatype, m.value)
            if not m.send_type:
                metric.ClearField("datatype")
        return payload.SerializeToString()

    def _next_seq(self) -> int:
        seq = self.seq
        self.seq = (self.seq + 1) % 256
        return seq

    def nbirth(self, metrics: list[M]) -> None:
        self.seq = 0
        bd = M("bdSeq", 0, self.bdseq, DataType.INT64)
        self.pub.publish(self.topic("NBIRTH"), self.payload([bd, *metrics], seq=self._next_seq()))

    def send(self, kind: str, metrics: list[M], device: str | None = None) -> None:
        self.pub.publish(self.topic(kind, device), self.payload(metrics, seq=self._next_seq()))

    def skip(self, count: int) -> None:
        """Lose ``count`` messages (as a broken link would)."""
        self.seq = (self.seq + count) % 256

    def ndeath(self, bdseq: int | None = None) -> None:
        bd = M("bdSeq", 0, self.bdseq if bdseq is None else bdseq, DataType.INT64)
        self.pub.publish(self.topic("NDEATH"), self.payload([bd], seq=None))

"""Sparkplug B topics, addresses and metric values.

Topic: ``spBv1.0/<group>/<type>/<edge node>[/<device>]``. Binding address:
``<group>/<edge node>:<metric>`` for a node's metric, ``<group>/<edge node>/<device>:<metric>``
for a device's; the metric name is everything after the first ``:`` and may contain ``/``.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from enum import StrEnum

from plantwin.connectors.mqtt.sparkplug.sparkplug_b_pb2 import Payload
from plantwin.core.errors import ConnectorError

NAMESPACE = "spBv1.0"
REBIRTH_METRIC = "Node Control/Rebirth"
BDSEQ_METRIC = "bdSeq"


class MessageType(StrEnum):
    NBIRTH = "NBIRTH"
    NDEATH = "NDEATH"
    NDATA = "NDATA"
    NCMD = "NCMD"
    DBIRTH = "DBIRTH"
    DDEATH = "DDEATH"
    DDATA = "DDATA"
    DCMD = "DCMD"
    STATE = "STATE"


class DataType:
    """Sparkplug B metric data type codes (``Metric.datatype``)."""

    INT8, INT16, INT32, INT64 = 1, 2, 3, 4
    UINT8, UINT16, UINT32, UINT64 = 5, 6, 7, 8
    FLOAT, DOUBLE, BOOLEAN, STRING, DATETIME = 9, 10, 11, 12, 13


_SIGNED_BITS = {DataType.INT8: 8, DataType.INT16: 16, DataType.INT32: 32, DataType.INT64: 64}
_UNSIGNED_BITS = {DataType.UINT8: 8, DataType.UINT16: 16, DataType.UINT32: 32, DataType.UINT64: 64}


@dataclass(frozen=True, slots=True)
class Topic:
    group: str
    type: MessageType
    node: str
    device: str | None

    @property
    def where(self) -> str:
        """``group/node`` or ``group/node/device``: the left side of a binding address."""
        base = f"{self.group}/{self.node}"
        return base if self.device is None else f"{base}/{self.device}"


def parse_topic(topic: str) -> Topic | None:
    """The Sparkplug topic, or None when ``topic`` is not one (the reason is not needed)."""
    parts = topic.split("/")
    if len(parts) == 3 and parts[0] == NAMESPACE and parts[1] == MessageType.STATE:
        return Topic(group="", type=MessageType.STATE, node=parts[2], device=None)
    if len(parts) not in (4, 5) or parts[0] != NAMESPACE or not all(parts[1:]):
        return None
    try:
        kind = MessageType(parts[2])
    except ValueError:
        return None
    device = parts[4] if len(parts) == 5 else None
    if (device is None) != kind.startswith("N"):
        return None
    return Topic(group=parts[1], type=kind, node=parts[3], device=device)


@dataclass(frozen=True, slots=True)
class Address:
    group: str
    node: str
    device: str | None
    metric: str

    @property
    def where(self) -> str:
        base = f"{self.group}/{self.node}"
        return base if self.device is None else f"{base}/{self.device}"


def parse_address(address: str) -> Address:
    where, sep, metric = address.partition(":")
    parts = where.split("/")
    if not sep or not metric or len(parts) not in (2, 3) or not all(parts):
        msg = (
            f"Sparkplug address '{address}' must be 'group/node:metric' or "
            "'group/node/device:metric'"
        )
        raise ConnectorError(msg)
    bad = [p for p in parts if "+" in p or "#" in p]
    if bad:
        msg = f"Sparkplug address '{address}': ids may not contain MQTT wildcards ({bad[0]})"
        raise ConnectorError(msg)
    return Address(parts[0], parts[1], parts[2] if len(parts) == 3 else None, metric)


class ValueProblemError(ValueError):
    """A bound metric carries no number: null, a string, a data set ..."""


def metric_value(metric: Payload.Metric, datatype: int) -> float:
    """The metric's value as a float; integers are read as two's complement by their type."""
    if metric.is_null:
        raise ValueProblemError("value is null")
    which = metric.WhichOneof("value")
    if which in {"int_value", "long_value"}:
        raw = metric.int_value if which == "int_value" else metric.long_value
        bits = _SIGNED_BITS.get(datatype)
        if bits is not None:
            raw &= (1 << bits) - 1
            return float(raw - (1 << bits) if raw >= 1 << (bits - 1) else raw)
        return float(raw)
    if which in {"float_value", "double_value"}:
        value = metric.float_value if which == "float_value" else metric.double_value
        if not math.isfinite(value):
            raise ValueProblemError(f"value {value} is not a finite number")
        return float(value)
    if which == "boolean_value":
        return 1.0 if metric.boolean_value else 0.0
    raise ValueProblemError(f"value is not a number ({which or 'no value'}, datatype {datatype})")


def set_value(metric: Payload.Metric, datatype: int, value: float) -> None:
    """Put ``value`` into the metric's field for ``datatype`` (commands)."""
    metric.datatype = datatype
    if datatype in _SIGNED_BITS or datatype in _UNSIGNED_BITS or datatype == DataType.DATETIME:
        if not float(value).is_integer():
            msg = f"value {value} is not a whole number, but the metric is of type {datatype}"
            raise ConnectorError(msg)
        bits = _SIGNED_BITS.get(datatype) or _UNSIGNED_BITS.get(datatype, 64)
        whole = int(value)
        low = -(1 << (bits - 1)) if datatype in _SIGNED_BITS else 0
        high = (1 << (bits - 1)) - 1 if datatype in _SIGNED_BITS else (1 << bits) - 1
        if not low <= whole <= high:
            msg = f"value {whole} does not fit the metric's type ({low} to {high})"
            raise ConnectorError(msg)
        wide = bits == 64
        encoded = whole & ((1 << (64 if wide else 32)) - 1)
        if wide:
            metric.long_value = encoded
        else:
            metric.int_value = encoded
    elif datatype == DataType.FLOAT:
        metric.float_value = value
    elif datatype == DataType.BOOLEAN:
        metric.boolean_value = bool(value)
    else:
        metric.datatype = DataType.DOUBLE
        metric.double_value = value


def command(metric_name: str, datatype: int, value: float | bool) -> bytes:
    """An NCMD/DCMD payload setting one metric."""
    payload = Payload(timestamp=time.time_ns() // 1_000_000)
    metric = payload.metrics.add()
    metric.name = metric_name
    metric.timestamp = payload.timestamp
    set_value(metric, datatype, float(value))
    return payload.SerializeToString()


def rebirth_request() -> bytes:
    return command(REBIRTH_METRIC, DataType.BOOLEAN, True)

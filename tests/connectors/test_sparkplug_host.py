"""Sparkplug B host logic without a broker: sequence wrap, values, topics, addresses."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from plantwin.connectors.mqtt.session import Message
from plantwin.connectors.mqtt.sparkplug.host import Outcome, SparkplugHost
from plantwin.connectors.mqtt.sparkplug.metrics import (
    DataType,
    MessageType,
    metric_value,
    parse_address,
    parse_topic,
    set_value,
)
from plantwin.connectors.mqtt.sparkplug.sparkplug_b_pb2 import Payload
from plantwin.core.errors import ConnectorError

SIGNED = {DataType.INT8: 8, DataType.INT16: 16, DataType.INT32: 32, DataType.INT64: 64}


def message(kind: str, seq: int | None, metrics: list[tuple[str | None, int, float]]) -> Message:
    payload = Payload(timestamp=1_780_000_000_000)
    if seq is not None:
        payload.seq = seq
    for name, alias, value in metrics:
        metric = payload.metrics.add()
        if name is not None:
            metric.name = name
            set_value(metric, DataType.DOUBLE, value)
        else:
            metric.double_value = value
        metric.alias = alias
    return Message(f"spBv1.0/G/{kind}/n1", payload.SerializeToString(), 1)


def test_sequence_numbers_wrap_from_255_to_0_without_a_gap() -> None:
    host = SparkplugHost("spb", ["G/n1:m"])
    out = Outcome()
    host.process(message("NBIRTH", 0, [("m", 1, 0.0)]), out)
    for i in range(1, 300):
        host.process(message("NDATA", i % 256, [(None, 1, float(i))]), out)
    assert out.dead == []
    assert host.stats.seq_gaps == 0
    assert out.rows.value[-1] == 299.0
    host.process(message("NDATA", 45, [(None, 1, 1.0)]), out)  # expected 44: one missing
    assert host.stats.missing_messages == 1
    assert out.rebirth == {("G", "n1")}


@given(st.sampled_from(list(SIGNED)), st.data())
def test_signed_integers_round_trip_through_their_encoding(
    datatype: int, data: st.DataObject
) -> None:
    bits = SIGNED[datatype]
    value = data.draw(st.integers(-(1 << (bits - 1)), (1 << (bits - 1)) - 1))
    metric = Payload.Metric()
    set_value(metric, datatype, value)
    decoded = metric_value(Payload.Metric.FromString(metric.SerializeToString()), datatype)
    assert decoded == float(value)  # samples are float64: Int64 beyond 2**53 rounds


def test_small_signed_integers_sign_extended_to_32_bits_are_read_too() -> None:
    metric = Payload.Metric(int_value=0xFFFFFFFE)  # -2 as some edge nodes send an Int8
    assert metric_value(metric, DataType.INT8) == -2.0
    assert metric_value(metric, DataType.UINT32) == float(0xFFFFFFFE)


def test_command_values_are_checked_against_the_metric_type() -> None:
    with pytest.raises(ConnectorError, match=r"does not fit the metric's type \(0 to 255\)"):
        set_value(Payload.Metric(), DataType.UINT8, 256)
    with pytest.raises(ConnectorError, match="not a whole number"):
        set_value(Payload.Metric(), DataType.INT32, 1.5)


def test_topics_and_addresses() -> None:
    topic = parse_topic("spBv1.0/Packaging/DDATA/gw/filler")
    assert topic is not None
    assert (topic.type, topic.where) == (MessageType.DDATA, "Packaging/gw/filler")
    assert parse_topic("spBv1.0/Packaging/NDATA/gw/filler") is None  # node type with a device
    assert parse_topic("spBv1.0/Packaging/XDATA/gw") is None
    address = parse_address("Packaging/gw/filler:Outputs/Speed:raw")
    assert (address.where, address.metric) == ("Packaging/gw/filler", "Outputs/Speed:raw")
    with pytest.raises(ConnectorError, match="must be 'group/node:metric'"):
        parse_address("Packaging/Outputs/Speed")
    with pytest.raises(ConnectorError, match="wildcards"):
        parse_address("+/gw:Speed")


def test_a_payload_that_is_not_protobuf_is_a_dead_letter() -> None:
    host = SparkplugHost("spb", ["G/n1:m"])
    out = Outcome()
    host.process(Message("spBv1.0/G/NDATA/n1", b"\xff\xff\xff", 1), out)
    host.process(Message("other/topic", b"", 1), out)
    assert [d.reason.split(":")[0] for d in out.dead] == [
        "not a Sparkplug B payload",
        "not a Sparkplug B topic",
    ]

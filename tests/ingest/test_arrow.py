"""Arrow IPC stream bodies: good rows land, bad rows are dead letters with their row number."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from plantwin.ingest import PayloadError, decode_arrow_stream
from tests.helpers import T0, S


def stream(table: pa.Table) -> bytes:
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        for part in table.to_batches(max_chunksize=2):  # several record batches
            writer.write_batch(part)
    return bytes(sink.getvalue())


def test_good_and_bad_rows() -> None:
    table = pa.table(
        {
            "address": ["a", None, "b", "c", "d"],
            "ts": pa.array([T0, T0 + S, None, T0 + 3 * S, T0 + 4 * S], pa.timestamp("ns", "UTC")),
            "value": [1.5, 2.0, 3.0, float("nan"), 5.0],
            "quality": ["good", "good", "bad", "good", "meh"],
        }
    )
    decoded = decode_arrow_stream("gw", stream(table), received=T0)
    assert decoded.records == 5
    assert [(d.location, d.reason) for d in decoded.dead] == [
        ("row 2", "field 'address' is empty"),
        ("row 3", "field 'ts' is empty"),
        ("row 4", "field 'value' must be a finite number"),
        ("row 5", "field 'quality' must be good, uncertain or bad"),
    ]
    assert b'"address": "d"' in decoded.dead[3].raw
    assert decoded.batch.address == ["a"]
    assert decoded.batch.ts.tolist() == [T0]
    assert decoded.numbers.tolist() == [1]


def test_epoch_integers_in_the_given_precision_and_numeric_quality() -> None:
    table = pa.table(
        {
            "address": pa.array(["a", "b"]).dictionary_encode(),
            "ts": pa.array([T0 // 1_000_000, T0 // 1_000_000 + 1], pa.int64()),
            "value": pa.array([True, False], pa.bool_()),
            "quality": pa.array([0, 1], pa.uint8()),
        }
    )
    decoded = decode_arrow_stream("gw", stream(table), received=T0, precision="ms")
    assert decoded.dead == []
    assert decoded.batch.ts.tolist() == [T0, T0 + 1_000_000]
    assert decoded.batch.value.tolist() == [1.0, 0.0]
    assert decoded.batch.status.tolist() == [0, 1]
    np.testing.assert_array_equal(decoded.numbers, [1, 2])


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"not arrow at all", "the body is not an Arrow IPC stream"),
        (
            stream(pa.table({"address": ["a"], "value": [1.0]})),
            "the Arrow stream has no column ts (columns: address, value)",
        ),
        (
            stream(
                pa.table({"address": ["a"], "ts": pa.array([T0], pa.timestamp("ns")), "value": [1]})
            ),
            "without a time zone",
        ),
        (
            stream(pa.table({"address": ["a"], "ts": [T0], "value": ["1"]})),
            "column 'value' must be numeric, got string",
        ),
    ],
)
def test_unreadable_payloads_say_why(body: bytes, message: str) -> None:
    with pytest.raises(PayloadError, match=message.replace("(", r"\(").replace(")", r"\)")):
        decode_arrow_stream("gw", body, received=T0)

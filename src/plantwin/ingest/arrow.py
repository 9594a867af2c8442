"""Decode an Arrow IPC stream of readings into a RawBatch; bad rows become dead letters.

Columns: ``address`` (string), ``ts`` (timestamp with a zone, or an integer/float epoch in
``precision`` units), ``value`` (number or bool) and optionally ``quality`` (good, uncertain,
bad, or 0/1/2). A body that is not a stream, or lacks a column, is a :class:`PayloadError`;
a row with an empty or unusable cell is a dead letter naming its row, and the rest lands.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from plantwin.core.clock import NS_MAX, NS_MIN
from plantwin.core.records import DeadLetter
from plantwin.core.samples import Quality, RawBatch
from plantwin.ingest.decode import EPOCH_SCALE, QUALITY_WORDS, Decoded, Precision

Flags = np.ndarray[Any, np.dtype[np.bool_]]
REQUIRED = ("address", "ts", "value")


class PayloadError(ValueError):
    """The payload as a whole cannot be read (not Arrow, a column missing or mistyped)."""


def decode_arrow_stream(
    source: str, data: bytes, *, received: int, precision: Precision = "ns"
) -> Decoded:
    table = _read(data)
    rows = table.num_rows
    problems: dict[int, str] = {}
    address = _addresses(table["address"], problems)
    ts = _times(table["ts"], precision, problems)
    value = _values(table["value"], problems)
    status = (
        _qualities(table["quality"], problems)
        if "quality" in table.column_names
        else np.zeros(rows, np.uint8)
    )
    keep = np.ones(rows, np.bool_)
    keep[list(problems)] = False
    dead = [
        DeadLetter(
            received=received,
            source=source,
            reason=reason,
            raw=json.dumps(table.slice(row, 1).to_pylist()[0], default=str).encode(),
            location=f"row {row + 1}",
        )
        for row, reason in sorted(problems.items())
    ]
    kept = np.flatnonzero(keep)
    batch = RawBatch(
        source=source,
        address=address[kept].tolist(),
        ts=ts[kept],
        value=value[kept],
        status=status[kept],
    )
    return Decoded(batch, dead, kept.astype(np.int64) + 1, rows)


def _read(data: bytes) -> pa.Table:
    try:
        table = pa.ipc.open_stream(data).read_all()
    except (pa.ArrowException, OSError, ValueError) as err:
        msg = f"the body is not an Arrow IPC stream: {err}"
        raise PayloadError(msg) from err
    missing = [c for c in REQUIRED if c not in table.column_names]
    if missing:
        msg = (
            f"the Arrow stream has no column {', '.join(missing)} (columns: "
            f"{', '.join(table.column_names) or 'none'}); it needs address, ts, value"
            " and optionally quality"
        )
        raise PayloadError(msg)
    return table


def _mark(problems: dict[int, str], where: Flags, reason: str) -> None:
    for row in np.flatnonzero(where).tolist():
        problems.setdefault(row, reason)


def _nulls(column: pa.ChunkedArray) -> Flags:
    return np.asarray(column.is_null().to_numpy(zero_copy_only=False), np.bool_)


def _addresses(column: pa.ChunkedArray, problems: dict[int, str]) -> np.ndarray[Any, Any]:
    kind = column.type
    if pa.types.is_dictionary(kind):
        column = column.cast(kind.value_type)
        kind = column.type
    if not (pa.types.is_string(kind) or pa.types.is_large_string(kind)):
        msg = f"column 'address' must be a string column, got {kind}"
        raise PayloadError(msg)
    encoded = pc.dictionary_encode(column.combine_chunks())
    names = np.array([*encoded.dictionary.to_pylist(), ""], dtype=object)
    codes = np.asarray(encoded.indices.fill_null(-1).to_numpy(zero_copy_only=False), np.int64)
    address = names[codes]  # a null picks the "" appended last
    _mark(problems, address == "", "field 'address' is empty")
    return address


def _times(
    column: pa.ChunkedArray, precision: Precision, problems: dict[int, str]
) -> np.ndarray[Any, np.dtype[np.int64]]:
    kind = column.type
    empty = _nulls(column)
    if pa.types.is_timestamp(kind):
        if kind.tz is None:
            msg = (
                f"column 'ts' is {kind} without a time zone; send timestamp[ns, tz=UTC] "
                "(or an integer epoch) so the times are not guessed"
            )
            raise PayloadError(msg)
        scale = {"s": 1_000_000_000, "ms": 1_000_000, "us": 1_000, "ns": 1}[kind.unit]
        ints: np.ndarray[Any, np.dtype[np.int64]] | None = np.asarray(
            column.cast(pa.int64()).fill_null(0).to_numpy(), np.int64
        )
        raw = np.asarray(ints, np.float64)
    elif pa.types.is_integer(kind) or pa.types.is_floating(kind):
        scale = EPOCH_SCALE[precision]
        as_float = column.cast(pa.float64(), safe=False)  # big int64 epochs lose only ulps
        raw = np.asarray(as_float.fill_null(0).to_numpy(), np.float64)
        ints = None
        if pa.types.is_integer(kind):
            filled = column.fill_null(0)
            if pc.max(filled).as_py() is None or pc.max(filled).as_py() <= NS_MAX:  # uint64
                ints = np.asarray(filled.cast(pa.int64()).to_numpy(), np.int64)
    else:
        msg = f"column 'ts' must be a timestamp with a zone or an epoch number, got {kind}"
        raise PayloadError(msg)
    with np.errstate(invalid="ignore", over="ignore"):
        ns = raw * scale
    usable = np.isfinite(ns) & (ns > NS_MIN) & (ns < NS_MAX)
    _mark(problems, empty, "field 'ts' is empty")
    _mark(problems, ~usable & ~empty, "field 'ts' is not a finite time between 1677 and 2262")
    out = np.zeros(len(raw), np.int64)
    if ints is not None:  # exact integer arithmetic where the float check passed
        out[usable] = ints[usable] * np.int64(scale)
    else:
        out[usable] = np.round(ns[usable]).astype(np.int64)
    return out


def _values(
    column: pa.ChunkedArray, problems: dict[int, str]
) -> np.ndarray[Any, np.dtype[np.float64]]:
    kind = column.type
    if not (
        pa.types.is_integer(kind)
        or pa.types.is_floating(kind)
        or pa.types.is_boolean(kind)
        or pa.types.is_decimal(kind)
    ):
        msg = f"column 'value' must be numeric, got {kind}"
        raise PayloadError(msg)
    empty = _nulls(column)
    value = np.asarray(column.cast(pa.float64()).to_numpy(zero_copy_only=False), np.float64)
    _mark(problems, empty, "field 'value' is empty")
    _mark(problems, ~np.isfinite(value) & ~empty, "field 'value' must be a finite number")
    return value


def _qualities(
    column: pa.ChunkedArray, problems: dict[int, str]
) -> np.ndarray[Any, np.dtype[np.uint8]]:
    kind = column.type
    if pa.types.is_integer(kind):
        codes = np.asarray(column.fill_null(0).to_numpy(), np.int64)
        allowed = (codes >= 0) & (codes <= int(Quality.BAD))
        _mark(problems, ~allowed, "field 'quality' must be 0 (good), 1 (uncertain) or 2 (bad)")
        return np.where(allowed, codes, 0).astype(np.uint8)
    if pa.types.is_dictionary(kind):
        column = column.cast(kind.value_type)
        kind = column.type
    if not (pa.types.is_string(kind) or pa.types.is_large_string(kind)):
        msg = f"column 'quality' must be text (good, uncertain, bad) or 0/1/2, got {kind}"
        raise PayloadError(msg)
    encoded = pc.dictionary_encode(column.combine_chunks())
    words = [str(w) for w in encoded.dictionary.to_pylist()]
    lookup = np.array([QUALITY_WORDS.get(w, 255) for w in words] + [0], np.int64)  # null: good
    codes = np.asarray(encoded.indices.fill_null(-1).to_numpy(zero_copy_only=False), np.int64)
    status = lookup[codes]
    _mark(problems, status == 255, "field 'quality' must be good, uncertain or bad")
    return np.where(status == 255, 0, status).astype(np.uint8)

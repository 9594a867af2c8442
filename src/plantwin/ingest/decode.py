"""Decode JSON-lines readings into a RawBatch; malformed lines become dead letters.

One reading per line: ``{"address": "L1/mill1/power", "ts": "2026-11-27T01:00:00Z",
"value": 12.5, "quality": "good"}``. ``ts`` is an ISO 8601 time with a zone or an epoch
number in ``precision`` units; ``quality`` is optional (good, uncertain or bad).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from plantwin.core.clock import checked_ns, parse_iso
from plantwin.core.records import DeadLetter
from plantwin.core.samples import Quality, RawBatch

Precision = Literal["s", "ms", "us", "ns"]
EPOCH_SCALE: dict[str, int] = {"s": 1_000_000_000, "ms": 1_000_000, "us": 1_000, "ns": 1}
QUALITY_WORDS = {
    "good": int(Quality.GOOD),
    "uncertain": int(Quality.UNCERTAIN),
    "bad": int(Quality.BAD),
}


class RecordError(ValueError):
    """One record is malformed; the message names the field."""


@dataclass(frozen=True, slots=True)
class Decoded:
    """Readings decoded from one payload, with where each came from (for error reports)."""

    batch: RawBatch
    dead: list[DeadLetter]
    numbers: NDArray[np.int64]  # line (JSON lines) or row (Arrow) number of each batch row
    records: int  # records in the payload, good and bad


def decode_json_lines(
    source: str, data: bytes, *, received: int, precision: Precision = "ns"
) -> tuple[RawBatch, list[DeadLetter]]:
    decoded = decode_json_records(source, data, received=received, precision=precision)
    return decoded.batch, decoded.dead


def decode_json_records(
    source: str, data: bytes, *, received: int, precision: Precision = "ns"
) -> Decoded:
    """Like :func:`decode_json_lines`, and says which line each good reading came from."""
    addresses: list[str] = []
    numbers: list[int] = []
    stamps: list[int] = []
    values: list[float] = []
    status: list[int] = []
    dead: list[DeadLetter] = []
    for number, line in enumerate(data.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            address, ts, value, quality = _record(line, precision)
        except RecordError as err:
            dead.append(
                DeadLetter(
                    received=received,
                    source=source,
                    reason=str(err),
                    raw=line,
                    location=f"line {number}",
                )
            )
            continue
        addresses.append(address)
        numbers.append(number)
        stamps.append(ts)
        values.append(value)
        status.append(quality)
    batch = RawBatch(
        source=source,
        address=addresses,
        ts=np.array(stamps, np.int64),
        value=np.array(values, np.float64),
        status=np.array(status, np.uint8),
    )
    return Decoded(batch, dead, np.array(numbers, np.int64), len(addresses) + len(dead))


def _record(line: bytes, precision: Precision) -> tuple[str, int, float, int]:
    try:
        obj: Any = json.loads(line)
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        msg = f"not valid JSON: {err}"
        raise RecordError(msg) from err
    except RecursionError as err:
        msg = "not valid JSON: nested too deeply"
        raise RecordError(msg) from err
    if not isinstance(obj, dict):
        msg = f"expected a JSON object, got {type(obj).__name__}"
        raise RecordError(msg)
    address = obj.get("address")
    if not isinstance(address, str) or not address:
        msg = "field 'address' is missing or not a non-empty string"
        raise RecordError(msg)
    quality = obj.get("quality", "good")
    if not isinstance(quality, str) or quality not in QUALITY_WORDS:
        msg = f"field 'quality' must be good, uncertain or bad, got {_short(quality)}"
        raise RecordError(msg)
    return (
        address,
        _timestamp(obj.get("ts"), precision),
        _value(obj.get("value")),
        QUALITY_WORDS[quality],
    )


def _value(raw: object) -> float:
    if isinstance(raw, bool):
        return float(raw)
    if isinstance(raw, int | float):
        try:
            value = float(raw)
        except OverflowError:
            value = math.inf
        if math.isfinite(value):
            return value
    msg = f"field 'value' must be a finite number, got {_short(raw)}"
    raise RecordError(msg)


def _timestamp(raw: object, precision: Precision) -> int:
    try:
        if isinstance(raw, str):
            return parse_iso(raw)
        if isinstance(raw, int) and not isinstance(raw, bool):
            return checked_ns(raw * EPOCH_SCALE[precision], raw)
        if isinstance(raw, float) and math.isfinite(raw):
            return checked_ns(round(raw * EPOCH_SCALE[precision]), raw)
    except ValueError as err:
        msg = f"field 'ts': {err}"
        raise RecordError(msg) from err
    msg = f"field 'ts' is missing or not a time: {_short(raw)}"
    raise RecordError(msg)


def _short(raw: object) -> str:
    shown = repr(raw)
    return shown if len(shown) <= 40 else shown[:37] + "..."

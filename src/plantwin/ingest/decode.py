"""Decode JSON-lines readings into a RawBatch; malformed lines become dead letters.

One reading per line: ``{"address": "L1/mill1/power", "ts": "2026-11-27T01:00:00Z",
"value": 12.5, "quality": "good"}``. ``ts`` is an ISO 8601 time with a zone or an epoch
number in ``precision`` units; ``quality`` is optional (good, uncertain or bad).
"""

from __future__ import annotations

import json
import math
from datetime import datetime
from typing import Any, Literal

import numpy as np

from plantwin.core.clock import from_datetime
from plantwin.core.records import DeadLetter
from plantwin.core.samples import Quality, RawBatch

Precision = Literal["s", "ms", "us", "ns"]
_SCALE: dict[str, int] = {"s": 1_000_000_000, "ms": 1_000_000, "us": 1_000, "ns": 1}
_QUALITY = {"good": Quality.GOOD, "uncertain": Quality.UNCERTAIN, "bad": Quality.BAD}


class RecordError(ValueError):
    """One record is malformed; the message names the field."""


def decode_json_lines(
    source: str, data: bytes, *, received: int, precision: Precision = "ns"
) -> tuple[RawBatch, list[DeadLetter]]:
    addresses: list[str] = []
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
    return batch, dead


def _record(line: bytes, precision: Precision) -> tuple[str, int, float, int]:
    try:
        obj: Any = json.loads(line)
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        msg = f"not valid JSON: {err}"
        raise RecordError(msg) from err
    if not isinstance(obj, dict):
        msg = f"expected a JSON object, got {type(obj).__name__}"
        raise RecordError(msg)
    address = obj.get("address")
    if not isinstance(address, str) or not address:
        msg = "field 'address' is missing or not a non-empty string"
        raise RecordError(msg)
    value = obj.get("value")
    if isinstance(value, bool):
        value = float(value)
    if not isinstance(value, int | float) or not math.isfinite(value):
        msg = f"field 'value' must be a finite number, got {value!r}"
        raise RecordError(msg)
    quality_name = obj.get("quality", "good")
    if quality_name not in _QUALITY:
        msg = f"field 'quality' must be good, uncertain or bad, got {quality_name!r}"
        raise RecordError(msg)
    return address, _timestamp(obj.get("ts"), precision), float(value), int(_QUALITY[quality_name])


def _timestamp(raw: object, precision: Precision) -> int:
    if isinstance(raw, str):
        try:
            parsed = datetime.fromisoformat(raw.replace("Z", "+00:00"))
        except ValueError as err:
            msg = f"field 'ts' is not an ISO 8601 time: {raw!r}"
            raise RecordError(msg) from err
        if parsed.tzinfo is None:
            msg = f"field 'ts' {raw!r} has no time zone; add 'Z' or an offset"
            raise RecordError(msg)
        return from_datetime(parsed)
    if isinstance(raw, int) and not isinstance(raw, bool):
        return raw * _SCALE[precision]
    if isinstance(raw, float) and math.isfinite(raw):
        return round(raw * _SCALE[precision])
    msg = f"field 'ts' is missing or not a time: {raw!r}"
    raise RecordError(msg)

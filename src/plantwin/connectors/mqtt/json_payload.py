"""JSON MQTT messages -> one RawBatch per poll, and a dead letter per thing that is wrong.

A payload is a bare number (``21.5``, ``true``), one record (``{"value": 21.5, "ts": ...}``),
a list of records, or, with ``payload.records`` set, an object holding that list. Each record
gives its time (``payload.ts``, numeric in ``payload.ts_unit`` or ISO 8601; missing: receive
time) and quality (``payload.quality``) to every bound field it contains.

What is wrong becomes a dead letter naming where (``topic``, ``topic[3]``,
``topic[3].spindle.temp``) and why; the rest of the message and of the batch still lands.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from itertools import repeat
from typing import cast

import numpy as np

from plantwin.connectors.mqtt.options import TS_UNIT_NS, PayloadOptions
from plantwin.connectors.mqtt.session import Message
from plantwin.connectors.mqtt.topics import FieldPath, Route, TopicRouter, parse_path
from plantwin.core.clock import NS_MAX, NS_MIN, checked_ns, parse_iso
from plantwin.core.records import DeadLetter
from plantwin.core.samples import Quality, RawBatch

RAW_KEEP = 1024  # bytes of an oversized message kept in its dead letter
_SIMPLE_LIMIT = 100_000  # topics whose fast-path fields are remembered
_WHOLE_LIST = 8  # records in a message from which the column-wise way is tried first
_INT_LIMIT = 2**63  # JSON integers beyond this take the careful way (float overflow checks)
_MISSING = object()
_QUALITY: dict[object, int] = {
    "good": int(Quality.GOOD),
    "uncertain": int(Quality.UNCERTAIN),
    "bad": int(Quality.BAD),
    0: int(Quality.GOOD),
    1: int(Quality.UNCERTAIN),
    2: int(Quality.BAD),
}


class _RecordError(ValueError):
    """A record is malformed; ``where`` is appended to the message's location."""

    def __init__(self, where: str, reason: str) -> None:
        super().__init__(reason)
        self.where = where


@dataclass(slots=True)
class _Rows:
    address: list[str] = field(default_factory=list)
    ts: list[int] = field(default_factory=list)
    value: list[float] = field(default_factory=list)
    status: list[int] = field(default_factory=list)


def _get(obj: object, path: FieldPath) -> object:
    if len(path) == 1 and type(obj) is dict:  # the common case, kept short
        key = path[0]
        return obj.get(key if type(key) is str else str(key), _MISSING)
    for key in path:
        if isinstance(obj, dict):
            obj = obj.get(key, _MISSING) if isinstance(key, str) else obj.get(str(key), _MISSING)
        elif isinstance(obj, list) and isinstance(key, int):
            obj = obj[key] if key < len(obj) else _MISSING
        else:
            return _MISSING
        if obj is _MISSING:
            return obj
    return obj


def _single_key(path: FieldPath | None) -> str | None:
    return path[0] if path is not None and len(path) == 1 and isinstance(path[0], str) else None


def _text(path: FieldPath) -> str:
    return ".".join(str(p) for p in path)


class JsonDecoder:
    """Decodes the messages of one poll; per-message work is only parsing and field lookups."""

    def __init__(self, source: str, router: TopicRouter, options: PayloadOptions) -> None:
        self.source = source
        self.router = router
        self.options = options
        self.value_path = parse_path(options.value)
        self.ts_path = None if options.ts is None else parse_path(options.ts)
        self.quality_path = None if options.quality is None else parse_path(options.quality)
        self.records_path = None if options.records is None else parse_path(options.records)
        self.ts_scale = TS_UNIT_NS[options.ts_unit]
        self._ts_key = _single_key(self.ts_path)
        self._quality_key = _single_key(self.quality_path)
        self._simple: dict[str, list[tuple[str, str]] | None] = {}

    def decode(self, messages: list[Message]) -> tuple[RawBatch | None, list[DeadLetter]]:
        rows = _Rows()
        dead: list[DeadLetter] = []
        for message in messages:
            self._message(message, rows, dead)
        if not rows.address:
            return None, dead
        batch = RawBatch(
            source=self.source,
            address=rows.address,
            ts=np.array(rows.ts, np.int64),
            value=np.array(rows.value, np.float64),
            status=np.array(rows.status, np.uint8),
        )
        return batch, dead

    def _dead(self, message: Message, location: str, reason: str, raw: bytes) -> DeadLetter:
        return DeadLetter(
            received=message.received,
            source=self.source,
            reason=reason,
            raw=raw,
            location=location,
        )

    def _message(self, message: Message, rows: _Rows, dead: list[DeadLetter]) -> None:
        topic, payload = message.topic, message.payload
        if len(payload) > self.options.max_bytes:
            reason = (
                f"message of {len(payload)} bytes is larger than payload.max_bytes "
                f"({self.options.max_bytes}); the first {RAW_KEEP} bytes are kept"
            )
            dead.append(self._dead(message, topic, reason, payload[:RAW_KEEP]))
            return
        routes = self.router.routes(topic)
        if not routes:
            reason = f"topic '{topic}' is not bound to any signal of connector '{self.source}'"
            dead.append(self._dead(message, topic, reason, payload))
            return
        try:
            doc = json.loads(payload)
        except (ValueError, RecursionError) as err:  # JSONDecodeError, UnicodeDecodeError
            reason = f"not valid JSON: {err}" if not isinstance(err, RecursionError) else ""
            dead.append(self._dead(message, topic, reason or "JSON nested too deeply", payload))
            return
        if isinstance(doc, bool | int | float):
            self._bare(message, doc, routes, rows, dead)
            return
        records: object = doc
        if isinstance(doc, dict):
            records = [doc] if self.records_path is None else _get(doc, self.records_path)
        if not isinstance(records, list):
            what = "a number, an object or a list of objects"
            if self.records_path is not None and isinstance(doc, dict):
                what = f"a list at '{self.options.records}'"
            reason = f"expected {what}, got {type(records).__name__}"
            dead.append(self._dead(message, topic, reason, payload))
            return
        many = len(records) != 1 or isinstance(doc, list) or self.records_path is not None
        simple = self._simple_routes(topic, routes)
        done = 0 if simple is None else self._fast_records(records, message.received, simple, rows)
        for i in range(done, len(records)):
            record = records[i]
            if simple is not None and self._fast_record(record, message.received, simple, rows):
                continue
            where = f"{topic}[{i}]" if many else topic
            try:
                errors = self._record(record, message.received, routes, rows)
            except _RecordError as whole:
                errors = [whole]
            for error in errors:
                raw = json.dumps(record, default=str).encode() if many else payload
                dead.append(self._dead(message, where + error.where, str(error), raw))

    def _simple_routes(self, topic: str, routes: list[Route]) -> list[tuple[str, str]] | None:
        """(address, key) per route when every field is one key deep, else None (cached).
        The fast ways read the quality only as one key: a deeper one takes the careful way."""
        found = self._simple.get(topic, _MISSING)
        if found is not _MISSING:
            return found  # type: ignore[return-value]
        nested_quality = self.quality_path is not None and self._quality_key is None
        simple: list[tuple[str, str]] | None = None if nested_quality else []
        for route in routes:
            path = self.value_path if route.field is None else route.field
            if simple is None or len(path) != 1 or not isinstance(path[0], str):
                simple = None
                break
            simple.append((route.address, path[0]))
        if len(self._simple) >= _SIMPLE_LIMIT:
            self._simple.clear()
        self._simple[topic] = simple
        return simple

    def _fast_records(
        self, records: list[object], received: int, simple: list[tuple[str, str]], rows: _Rows
    ) -> int:
        """How many records from the start :meth:`_fast_record` would take, taken in one loop.

        For one route and a one-key time (or none), the common binding, the loop keeps its
        lookups local: a 50-record message costs a fraction of 50 calls. It stops at the first
        record that needs a check, leaving it (and the rest) to the per-record way.
        """
        ts_key, scale, quality_key = self._ts_key, self.ts_scale, self._quality_key
        if len(simple) != 1 or (ts_key is None and self.ts_path is not None):
            for i, record in enumerate(records):
                if not self._fast_record(record, received, simple, rows):
                    return i
            return len(records)
        address, key = simple[0]
        if len(records) >= _WHOLE_LIST and self._whole_list(records, received, address, key, rows):
            return len(records)
        add_address, add_ts = rows.address.append, rows.ts.append
        add_value, add_status = rows.value.append, rows.status.append
        isfinite, missing = math.isfinite, _MISSING
        done = 0
        for record in records:
            if type(record) is not dict or (quality_key is not None and quality_key in record):
                break
            raw_ts = missing if ts_key is None else record.get(ts_key, missing)
            if raw_ts is missing:
                ts = received
            elif type(raw_ts) is int and NS_MIN <= raw_ts * scale <= NS_MAX:
                ts = raw_ts * scale
            else:
                break
            value = record.get(key, missing)
            if type(value) is int and -_INT_LIMIT < value < _INT_LIMIT:
                value = float(value)
            elif type(value) is not float or not isfinite(value):
                break
            add_address(address)
            add_ts(ts)
            add_value(value)
            add_status(0)
            done += 1
        return done

    def _whole_list(
        self, records: list[object], received: int, address: str, key: str, rows: _Rows
    ) -> bool:
        """Every record at once, column by column in C loops (comprehensions, map, min/max),
        when all are common ones; else False with ``rows`` untouched."""
        ts_key, quality_key = self._ts_key, self._quality_key
        try:
            values = _float_column([r[key] for r in records])  # type: ignore[index]
            raw_ts = None if ts_key is None else [r[ts_key] for r in records]  # type: ignore[index]
        except (KeyError, TypeError, IndexError):  # a missing field, a record that is no object
            return False
        # Every record indexed by a string key above is an object (a JSON dict).
        objects = cast("list[dict[str, object]]", records)
        if values is None or (
            quality_key is not None and any(map(dict.__contains__, objects, repeat(quality_key)))
        ):
            return False
        stamps = [received] * len(records) if raw_ts is None else _ts_column(raw_ts, self.ts_scale)
        if stamps is None:
            return False
        rows.address.extend(repeat(address, len(records)))
        rows.ts.extend(stamps)
        rows.value.extend(values)
        rows.status.extend(repeat(0, len(records)))
        return True

    def _fast_record(
        self, record: object, received: int, simple: list[tuple[str, str]], rows: _Rows
    ) -> bool:
        """The common record (plain numbers, integer time, no quality) without checks that
        cannot fail for it; False leaves anything else to :meth:`_record`, untouched."""
        if type(record) is not dict or (
            self._quality_key is not None and self._quality_key in record
        ):
            return False
        ts_key = self._ts_key
        raw_ts = record.get(ts_key, _MISSING) if ts_key is not None else _MISSING
        if raw_ts is _MISSING:
            if self.ts_path is not None and ts_key is None:
                return False  # a nested time path: the careful way
            ts = received
        elif type(raw_ts) is int and NS_MIN <= raw_ts * self.ts_scale <= NS_MAX:
            ts = raw_ts * self.ts_scale
        else:
            return False
        found: list[tuple[str, float]] = []
        for address, key in simple:
            value = record.get(key, _MISSING)
            if value is _MISSING:
                continue
            if type(value) is float and math.isfinite(value):
                found.append((address, value))
            elif type(value) is int and -_INT_LIMIT < value < _INT_LIMIT:
                found.append((address, float(value)))
            else:
                return False
        if not found:
            return False
        for address, value in found:
            rows.address.append(address)
            rows.ts.append(ts)
            rows.value.append(value)
            rows.status.append(0)
        return True

    def _bare(
        self,
        message: Message,
        doc: float,
        routes: list[Route],
        rows: _Rows,
        dead: list[DeadLetter],
    ) -> None:
        plain = [r for r in routes if r.field is None]
        if not plain:
            fields = ", ".join(_text(r.field) for r in routes if r.field is not None)
            reason = f"payload is a bare value, but the bindings of this topic read {fields}"
            dead.append(self._dead(message, message.topic, reason, message.payload))
            return
        try:
            value = _number(doc, "payload")
        except _RecordError as err:
            dead.append(self._dead(message, message.topic, str(err), message.payload))
            return
        for route in plain:
            rows.address.append(route.address)
            rows.ts.append(message.received)
            rows.value.append(value)
            rows.status.append(0)

    def _record(
        self, record: object, received: int, routes: list[Route], rows: _Rows
    ) -> list[_RecordError]:
        """Append the record's bound fields; a bad field is returned, the others still land."""
        if not isinstance(record, dict):
            msg = f"expected a JSON object, got {type(record).__name__}"
            raise _RecordError("", msg)
        ts = self._ts(record, received)
        status = self._quality(record)
        errors: list[_RecordError] = []
        found = 0
        for route in routes:
            path = self.value_path if route.field is None else route.field
            raw = _get(record, path)
            if raw is _MISSING:
                continue
            found += 1
            if type(raw) is float and math.isfinite(raw):  # the common case, kept short
                value = raw
            else:
                try:
                    value = _number(raw, _text(path), f".{_text(path)}")
                except _RecordError as err:
                    errors.append(err)
                    continue
            rows.address.append(route.address)
            rows.ts.append(ts)
            rows.value.append(value)
            rows.status.append(status)
        if not found:
            wanted = ", ".join(
                sorted({_text(self.value_path if r.field is None else r.field) for r in routes})
            )
            msg = f"record has none of the bound fields ({wanted})"
            raise _RecordError("", msg)
        return errors

    def _ts(self, record: dict[str, object], received: int) -> int:
        if self.ts_path is None:
            return received
        raw = _get(record, self.ts_path)
        if type(raw) is int:  # the common case, kept short
            ns = raw * self.ts_scale
            if NS_MIN <= ns <= NS_MAX:
                return ns
        if raw is _MISSING or raw is None:
            return received
        name = self.options.ts
        try:
            if isinstance(raw, str):
                return parse_iso(raw)
            if isinstance(raw, int) and not isinstance(raw, bool):
                return checked_ns(raw * self.ts_scale, raw)
            if isinstance(raw, float) and math.isfinite(raw):
                return checked_ns(round(raw * self.ts_scale), raw)
        except ValueError as err:
            raise _RecordError(f".{name}", f"field '{name}': {err}") from err
        unit = self.options.ts_unit
        msg = f"field '{name}' must be a number ({unit}) or an ISO 8601 time, got {_short(raw)}"
        raise _RecordError(f".{name}", msg)

    def _quality(self, record: dict[str, object]) -> int:
        if self.quality_path is None:
            return 0
        raw = _get(record, self.quality_path)
        if raw is _MISSING or raw is None:
            return 0
        key = raw.lower() if isinstance(raw, str) else raw
        if isinstance(key, bool) or key not in _QUALITY:
            name = self.options.quality
            msg = f"field '{name}' must be good, uncertain or bad (or 0, 1, 2), got {_short(raw)}"
            raise _RecordError(f".{name}", msg)
        return _QUALITY[key]


def _float_column(values: list[object]) -> list[float] | None:
    """The values as floats when all are finite floats or in-range ints (not bools), else None."""
    kinds = set(map(type, values))
    numbers = cast("list[float]", values)  # checked just below
    if kinds == {float}:
        floats = numbers
    elif kinds <= {float, int} and min(numbers) > -_INT_LIMIT and max(numbers) < _INT_LIMIT:
        floats = [float(v) for v in numbers]
    else:
        return None
    # inf or nan anywhere makes the sum so (a sum that overflows only sends it the careful way)
    return floats if math.isfinite(sum(floats)) else None


def _ts_column(raw: list[object], scale: int) -> list[int] | None:
    """Integer times in the unit times ``scale`` as ns, when all are in range, else None."""
    if set(map(type, raw)) != {int}:
        return None
    ints = cast("list[int]", raw)
    if min(ints) * scale < NS_MIN or max(ints) * scale > NS_MAX:
        return None
    return ints if scale == 1 else [t * scale for t in ints]


def _number(raw: object, name: str, where: str = "") -> float:
    if isinstance(raw, bool):
        return float(raw)
    if isinstance(raw, int | float):
        try:
            value = float(raw)
        except OverflowError:
            value = math.inf
        if math.isfinite(value):
            return value
    msg = f"field '{name}' must be a finite number or a boolean, got {_short(raw)}"
    raise _RecordError(where, msg)


def _short(raw: object) -> str:
    shown = repr(raw)
    return shown if len(shown) <= 40 else shown[:37] + "..."

"""Arrow columns of a replayed file -> numpy arrays, with a reason for every row that fails.

Each conversion tries one vectorised Arrow cast first (clean files never leave it). If the
cast fails anywhere, the column is converted row by row in Python, so that each bad row gets
its own reason and every good row still lands.
"""

from __future__ import annotations

import math
import zoneinfo
from collections.abc import Callable
from datetime import datetime
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from plantwin.connectors.replay.options import EPOCH_UNITS, ReplayOptions
from plantwin.core.clock import checked_ns, from_datetime, parse_iso
from plantwin.core.errors import ConnectorError
from plantwin.core.samples import F64, I64, U8, Quality

Problems = dict[int, str]  # row index -> why the row cannot become a sample
_QUALITY = {"good": int(Quality.GOOD), "uncertain": int(Quality.UNCERTAIN), "bad": int(Quality.BAD)}
_QUALITY_CODES = {0: int(Quality.GOOD), 1: int(Quality.UNCERTAIN), 2: int(Quality.BAD)}


def _nulls(column: pa.ChunkedArray) -> np.ndarray[Any, np.dtype[np.bool_]]:
    return np.asarray(column.is_null().to_numpy(zero_copy_only=False), dtype=np.bool_)


def _per_row(
    column: pa.ChunkedArray, convert: Callable[[Any], float | int], dtype: type
) -> tuple[np.ndarray[Any, Any], Problems]:
    """Convert each non-null value in Python; failures become problems with their reason."""
    out: np.ndarray[Any, Any] = np.zeros(len(column), dtype=dtype)
    problems: Problems = {}
    for i, raw in enumerate(column.to_pylist()):
        if raw is None:
            continue
        try:
            out[i] = convert(raw)
        except (ValueError, OverflowError, TypeError) as err:
            problems[i] = str(err)
    return out, problems


def _short(raw: object) -> str:
    shown = repr(raw)
    return shown if len(shown) <= 40 else shown[:37] + "..."


# -- times -----------------------------------------------------------------------------------


def times(column: pa.ChunkedArray, options: ReplayOptions) -> tuple[I64, Problems]:
    """UTC nanoseconds per row; empty or unreadable times are problems."""
    name = options.time_column
    if pa.types.is_null(column.type):  # a column with no value at all
        column = column.cast(pa.string())
    kind = column.type
    if pa.types.is_timestamp(kind) or pa.types.is_date(kind):
        ts, problems = _typed_times(column, options)
    elif pa.types.is_integer(kind) or pa.types.is_floating(kind):
        if options.epoch_unit is None:
            msg = (
                f"column '{name}' holds numbers, not {options.time_format} times; set "
                "time_format to s, ms, us or ns (the unit since 1970-01-01 UTC)"
            )
            raise ConnectorError(msg)
        ts, problems = _epoch_numbers(column, options.epoch_unit)
    elif pa.types.is_string(kind) or pa.types.is_large_string(kind):
        ts, problems = _text_times(column, options)
    else:
        msg = f"column '{name}' has type {kind}, which is not a time"
        raise ConnectorError(msg)
    for i in np.flatnonzero(_nulls(column)).tolist():
        problems[i] = f"time ({name}) is empty"
    return ts, problems


def _typed_times(column: pa.ChunkedArray, options: ReplayOptions) -> tuple[I64, Problems]:
    kind = column.type
    if pa.types.is_date(kind):
        column = column.cast(pa.timestamp("s"))
        kind = column.type
    if kind.tz is None:
        if options.timezone is None:
            msg = (
                f"column '{options.time_column}' holds times without a zone; set timezone "
                "(e.g. UTC or Asia/Seoul) to say where they were written"
            )
            raise ConnectorError(msg)
        column = pc.assume_timezone(
            column, options.timezone, ambiguous="earliest", nonexistent="earliest"
        )
    try:
        ns = column.cast(pa.timestamp("ns", tz="UTC")).cast(pa.int64()).fill_null(0)
        return np.asarray(ns.to_numpy(zero_copy_only=False), np.int64), {}
    except pa.ArrowInvalid:  # out of the ns range somewhere: find the rows
        return _per_row(column, _datetime_ns, np.int64)


def _datetime_ns(value: datetime) -> int:
    return checked_ns(from_datetime(value), value.isoformat())


def _epoch_numbers(column: pa.ChunkedArray, unit: int) -> tuple[I64, Problems]:
    """Numbers since the epoch in ``unit`` ns; vectorised unless a value is out of range."""
    kind = column.type
    limit = float(np.iinfo(np.int64).max // unit)
    if pa.types.is_integer(kind) or pa.types.is_floating(kind):
        values = np.asarray(column.to_numpy(zero_copy_only=False), np.float64)  # nulls: NaN
        empty = _nulls(column)
        usable = np.isfinite(values) & (np.abs(values) < limit)
        if (usable | empty).all():
            if pa.types.is_integer(kind):
                ints = np.asarray(column.fill_null(0).to_numpy(zero_copy_only=False), np.int64)
                return ints * np.int64(unit), {}
            return np.round(np.where(empty, 0.0, values) * unit).astype(np.int64), {}
    return _per_row(column, _epoch_parser(unit), np.int64)


def _epoch_parser(unit: int) -> Callable[[Any], int]:
    name = {v: k for k, v in EPOCH_UNITS.items()}[unit]

    def convert(raw: Any) -> int:
        number = raw
        if isinstance(raw, str):
            try:
                number = int(raw.strip())
            except ValueError:
                try:
                    number = float(raw.strip())
                except ValueError:
                    msg = f"time {_short(raw)} is not a number of {name} since the epoch"
                    raise ValueError(msg) from None
        if isinstance(number, float):
            if not math.isfinite(number):
                msg = f"time {_short(raw)} is not a finite number"
                raise ValueError(msg)
            return checked_ns(round(number * unit), raw)
        return checked_ns(int(number) * unit, raw)

    return convert


def _text_times(column: pa.ChunkedArray, options: ReplayOptions) -> tuple[I64, Problems]:
    unit = options.epoch_unit
    if unit is not None:
        for numeric in (pa.int64(), pa.float64()):
            try:
                converted = column.cast(numeric)
            except pa.ArrowInvalid:
                continue
            return _epoch_numbers(converted, unit)
        return _per_row(column, _epoch_parser(unit), np.int64)
    if options.time_format == "iso":
        try:
            ns = column.cast(pa.timestamp("ns", tz="UTC")).cast(pa.int64()).fill_null(0)
            return np.asarray(ns.to_numpy(zero_copy_only=False), np.int64), {}
        except pa.ArrowInvalid:
            return _per_row(column, _iso_parser(options), np.int64)
    pattern = options.time_format
    if "%z" not in pattern and options.timezone is None:
        msg = (
            f"time_format '{pattern}' has no zone (%z); set timezone (e.g. UTC or "
            "Asia/Seoul) to say where the times were written"
        )
        raise ConnectorError(msg)
    return _per_row(column, _pattern_parser(pattern, options.timezone), np.int64)


def _iso_parser(options: ReplayOptions) -> Callable[[Any], int]:
    zone = zoneinfo.ZoneInfo(options.timezone) if options.timezone else None

    def convert(raw: str) -> int:
        try:
            return parse_iso(raw)
        except ValueError as err:
            if zone is None or "no time zone" not in str(err):
                msg = f"time {err}"
                raise ValueError(msg) from err
        try:
            local = datetime.fromisoformat(raw.strip())
        except ValueError as err:
            msg = f"time {_short(raw)} is not an ISO 8601 time"
            raise ValueError(msg) from err
        return checked_ns(from_datetime(local.replace(tzinfo=zone)), raw)

    return convert


def _pattern_parser(pattern: str, timezone: str | None) -> Callable[[Any], int]:
    zone = zoneinfo.ZoneInfo(timezone) if timezone else None

    def convert(raw: str) -> int:
        try:
            parsed = datetime.strptime(raw.strip(), pattern)
        except ValueError as err:
            msg = f"time {_short(raw)} does not match time_format '{pattern}'"
            raise ValueError(msg) from err
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=zone)
        return checked_ns(from_datetime(parsed), raw)

    return convert


# -- values and quality ----------------------------------------------------------------------


def numbers(
    column: pa.ChunkedArray, name: str
) -> tuple[F64, Problems, np.ndarray[Any, np.dtype[np.bool_]]]:
    """Values as float64, problems for text and non-finite numbers, and the empty cells."""
    if pa.types.is_null(column.type):
        column = column.cast(pa.float64())
    kind = column.type
    empty = _nulls(column)
    problems: Problems = {}
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        try:
            column = column.cast(pa.float64())
        except pa.ArrowInvalid:
            values, problems = _per_row(column, _number(name), np.float64)
            return values, problems, empty
    elif not (
        pa.types.is_integer(kind)
        or pa.types.is_floating(kind)
        or pa.types.is_boolean(kind)
        or pa.types.is_decimal(kind)
    ):
        msg = f"column '{name}' has type {kind}, which is not a number"
        raise ConnectorError(msg)
    values = np.asarray(column.cast(pa.float64()).to_numpy(zero_copy_only=False), np.float64)
    bad = ~np.isfinite(values) & ~empty
    for i in np.flatnonzero(bad).tolist():
        problems[i] = f"value ({name}) {values[i]!r} is not a finite number"
    return values, problems, empty


def _number(name: str) -> Callable[[Any], float]:
    def convert(raw: str) -> float:
        try:
            value = float(raw)
        except ValueError:
            msg = f"value ({name}) {_short(raw)} is not a number"
            raise ValueError(msg) from None
        if not math.isfinite(value):
            msg = f"value ({name}) {_short(raw)} is not a finite number"
            raise ValueError(msg)
        return value

    return convert


def qualities(column: pa.ChunkedArray, name: str) -> tuple[U8, Problems]:
    """Quality bits per row: good, uncertain or bad (or 0, 1, 2); empty means good."""
    kind = column.type
    if pa.types.is_integer(kind) or pa.types.is_null(kind):
        column = column.cast(pa.string())
    elif not (pa.types.is_string(kind) or pa.types.is_large_string(kind)):
        msg = f"column '{name}' has type {kind}; quality is good, uncertain or bad"
        raise ConnectorError(msg)
    encoded = pc.dictionary_encode(column.combine_chunks())
    codes: dict[int, int] = {}
    for code, text in enumerate(encoded.dictionary.to_pylist()):
        word = str(text).strip().lower()
        if word in _QUALITY:
            codes[code] = _QUALITY[word]
        elif word.isdecimal() and int(word) in _QUALITY_CODES:
            codes[code] = _QUALITY_CODES[int(word)]
        elif not word:
            codes[code] = int(Quality.GOOD)
    index = np.asarray(encoded.indices.fill_null(-1).to_numpy(zero_copy_only=False), np.int64)
    lookup = np.full(len(encoded.dictionary) + 1, 255, np.int64)  # the last slot is for nulls
    lookup[-1] = int(Quality.GOOD)
    for code, bits in codes.items():
        lookup[code] = bits
    status = lookup[index]
    problems: Problems = {}
    for i in np.flatnonzero(status == 255).tolist():
        shown = _short(encoded.dictionary[int(index[i])].as_py())
        problems[i] = f"quality ({name}) {shown} is not good, uncertain or bad"
    status[status == 255] = 0
    return status.astype(np.uint8), problems

"""The replay connector's options, read from its entry in the plant file.

Every mistake is a ConnectorError naming the connector and the option, e.g.
``connectors.history.time_format: 'minutes' is not a time format (iso, s, ms, us, ns or a
strptime pattern such as %Y-%m-%d %H:%M:%S)``.
"""

from __future__ import annotations

import difflib
import math
import zoneinfo
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import NoReturn

from plantwin.core.errors import ConnectorError
from plantwin.model.plant import ConnectorDef

EPOCH_UNITS = {"s": 1_000_000_000, "ms": 1_000_000, "us": 1_000, "ns": 1}
SUFFIXES = {".csv": "csv", ".tsv": "csv", ".txt": "csv", ".parquet": "parquet", ".pq": "parquet"}


class Layout(StrEnum):
    LONG = "long"  # one sample per row: time, address, value[, quality]
    WIDE = "wide"  # one row per time, one column per address


@dataclass(frozen=True, slots=True, kw_only=True)
class ReplayOptions:
    file: Path
    format: str  # csv or parquet
    speed: float | None  # file seconds per clock second; None replays as fast as possible
    time_column: str = "ts"
    time_format: str = "iso"  # iso, s/ms/us/ns since the epoch, or a strptime pattern
    timezone: str | None = None  # zone of times written without one; None rejects them
    layout: Layout = Layout.LONG
    address_column: str = "address"
    value_column: str = "value"
    quality_column: str | None = None
    columns: tuple[str, ...] | None = None  # wide: the address columns (default: all others)
    delimiter: str = ","
    batch_rows: int = 5000

    @property
    def epoch_unit(self) -> int | None:
        """Nanoseconds per unit when times are epoch numbers, else None."""
        return EPOCH_UNITS.get(self.time_format)


KNOWN = (
    "file",
    "format",
    "speed",
    "time_column",
    "time_format",
    "timezone",
    "layout",
    "address_column",
    "value_column",
    "quality_column",
    "columns",
    "delimiter",
    "batch_rows",
)


def parse_options(declared: ConnectorDef) -> ReplayOptions:
    """The options of a ``kind: replay`` connector; relative paths start at the plant file."""
    opts = dict(declared.options)
    where = f"connectors.{declared.name}"
    for key in opts:
        if key not in KNOWN:
            close = difflib.get_close_matches(key, KNOWN, n=1)
            hint = f"; did you mean '{close[0]}'?" if close else f" (options: {', '.join(KNOWN)})"
            _fail(where, key, f"unknown option{hint}")
    file = _file(where, opts.get("file"), declared.source)
    fmt = opts.get("format", SUFFIXES.get(file.suffix.lower()))
    if fmt not in ("csv", "parquet"):
        shown = repr(fmt) if "format" in opts else f"the file suffix '{file.suffix}'"
        _fail(where, "format", f"{shown} is not csv or parquet; set format: csv or parquet")
    assert isinstance(fmt, str)
    layout = _text(where, opts, "layout", "long")
    if layout not in Layout.__members__.values():
        _fail(where, "layout", f"'{layout}' is not long or wide")
    time_format = _text(where, opts, "time_format", "iso")
    if time_format not in ("iso", *EPOCH_UNITS) and "%" not in time_format:
        _fail(
            where,
            "time_format",
            f"'{time_format}' is not a time format (iso, s, ms, us, ns or a strptime pattern"
            " such as %Y-%m-%d %H:%M:%S)",
        )
    timezone = opts.get("timezone")
    if timezone is not None:
        timezone = _zone(where, timezone)
    quality = opts.get("quality_column")
    if quality is not None:
        quality = _text(where, opts, "quality_column", "")
    return ReplayOptions(
        file=file,
        format=fmt,
        speed=parse_speed(opts.get("speed", 1), f"{where}.speed"),
        time_column=_text(where, opts, "time_column", "ts"),
        time_format=time_format,
        timezone=timezone,
        layout=Layout(layout),
        address_column=_text(where, opts, "address_column", "address"),
        value_column=_text(where, opts, "value_column", "value"),
        quality_column=quality,
        columns=_columns(where, opts.get("columns")),
        delimiter=_delimiter(where, opts.get("delimiter", "\t" if file.suffix == ".tsv" else ",")),
        batch_rows=_batch_rows(where, opts.get("batch_rows", 5000)),
    )


def parse_speed(raw: object, where: str) -> float | None:
    """A speed factor: a number > 0, or 0 / "max" for as fast as possible (None)."""
    if isinstance(raw, str):
        text = raw.strip().lower()
        if text in ("max", "0"):
            return None
        try:
            raw = float(text.removesuffix("x"))
        except ValueError:
            msg = f"{where}: '{raw}' is not a speed; use a factor such as 1, 10 or 0.5, or max"
            raise ConnectorError(msg) from None
    if isinstance(raw, bool) or not isinstance(raw, int | float) or not math.isfinite(raw):
        msg = f"{where}: {raw!r} is not a speed; use a factor such as 1, 10 or 0.5, or max"
        raise ConnectorError(msg)
    if raw < 0:
        msg = f"{where}: speed must not be negative, got {raw}"
        raise ConnectorError(msg)
    return None if raw == 0 else float(raw)


def _fail(where: str, key: str, message: str) -> NoReturn:
    msg = f"{where}.{key}: {message}"
    raise ConnectorError(msg)


def _text(where: str, opts: Mapping[str, object], key: str, default: str) -> str:
    value = opts.get(key, default)
    if not isinstance(value, str) or not value:
        _fail(where, key, f"expected a non-empty text, got {value!r}")
    return value


def _file(where: str, raw: object, source: str) -> Path:
    if raw is None:
        _fail(where, "file", "missing; name the CSV or Parquet file to replay")
    if not isinstance(raw, str | Path) or not str(raw):
        _fail(where, "file", f"expected a file path, got {raw!r}")
    path = Path(str(raw)).expanduser()
    if not path.is_absolute() and source and not source.startswith("<"):
        path = Path(source).parent / path
    return path


def _zone(where: str, raw: object) -> str:
    if not isinstance(raw, str):
        _fail(where, "timezone", f"expected an IANA zone such as UTC or Asia/Seoul, got {raw!r}")
    try:
        zoneinfo.ZoneInfo(raw)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        _fail(where, "timezone", f"unknown time zone '{raw}'; use e.g. UTC or Asia/Seoul")
    return raw


def _columns(where: str, raw: object) -> tuple[str, ...] | None:
    if raw is None:
        return None
    if isinstance(raw, str):
        raw = [c.strip() for c in raw.split(",")]
    if not isinstance(raw, list | tuple) or not raw or not all(isinstance(c, str) for c in raw):
        _fail(where, "columns", f"expected a list of column names, got {raw!r}")
    return tuple(str(c) for c in raw)


def _delimiter(where: str, raw: object) -> str:
    if not isinstance(raw, str) or len(raw) != 1:
        _fail(where, "delimiter", f"expected one character such as ',' or ';', got {raw!r}")
    return raw


def _batch_rows(where: str, raw: object) -> int:
    if isinstance(raw, str) and raw.strip().isdecimal():
        raw = int(raw)
    if isinstance(raw, bool) or not isinstance(raw, int) or not 1 <= raw <= 1_000_000:
        _fail(where, "batch_rows", f"expected a whole number from 1 to 1000000, got {raw!r}")
    return raw

"""Reading labelled multivariate CSV files (the SKAB layout) with file:line errors.

A file holds a ``datetime`` column, sensor columns, and 0/1 ``anomaly`` and ``changepoint``
columns, separated by ';' or ',' (taken from the header line). Every other column is a sensor.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import numpy.typing as npt

from plantwin.analytics.anomaly.detector import BoolArray, FloatArray
from plantwin.core.errors import AnalyticsError

TIME, ANOMALY, CHANGEPOINT = "datetime", "anomaly", "changepoint"


class LabelledDataError(AnalyticsError):
    """A labelled file is missing or malformed; the message names the file and line."""


@dataclass(frozen=True, slots=True, kw_only=True)
class LabelledFile:
    path: Path
    sensors: tuple[str, ...]
    ts_s: npt.NDArray[np.float64]  # seconds since the epoch (naive times taken as UTC)
    values: FloatArray  # (rows, sensors)
    anomaly: BoolArray
    changepoint: BoolArray

    def __len__(self) -> int:
        return len(self.ts_s)


def load_labelled(path: Path) -> LabelledFile:
    """Read one labelled CSV; raise LabelledDataError naming file:line on bad input."""
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            text = handle.read()
    except (OSError, UnicodeDecodeError) as error:
        raise LabelledDataError(f"{path}: cannot read: {error}") from error
    lines = text.splitlines()
    if not lines or not lines[0].strip():
        raise LabelledDataError(f"{path}:1: empty file, expected a header line")
    delimiter = ";" if lines[0].count(";") > lines[0].count(",") else ","
    reader = csv.reader(lines, delimiter=delimiter)
    header = [name.strip() for name in next(reader)]
    missing = [name for name in (TIME, ANOMALY, CHANGEPOINT) if name not in header]
    if missing:
        found = ", ".join(header)
        raise LabelledDataError(
            f"{path}:1: missing column(s) {', '.join(missing)} (found: {found})"
        )
    sensors = tuple(name for name in header if name not in (TIME, ANOMALY, CHANGEPOINT))
    if not sensors:
        raise LabelledDataError(
            f"{path}:1: no sensor columns besides {TIME}, {ANOMALY}, {CHANGEPOINT}"
        )
    at = {name: header.index(name) for name in header}
    times: list[float] = []
    rows: list[list[float]] = []
    labels: list[tuple[bool, bool]] = []
    for line, row in enumerate(reader, start=2):
        if not row or not any(field.strip() for field in row):
            continue
        if len(row) != len(header):
            raise LabelledDataError(
                f"{path}:{line}: {len(row)} fields, the header has {len(header)}"
            )
        times.append(_time(row[at[TIME]], path, line))
        rows.append([_number(row[at[name]], name, path, line) for name in sensors])
        labels.append(
            (
                _flag(row[at[ANOMALY]], ANOMALY, path, line),
                _flag(row[at[CHANGEPOINT]], CHANGEPOINT, path, line),
            )
        )
    if not rows:
        raise LabelledDataError(f"{path}: no data rows after the header")
    flags = np.array(labels, dtype=np.bool_)
    return LabelledFile(
        path=path,
        sensors=sensors,
        ts_s=np.array(times),
        values=np.array(rows, dtype=np.float64),
        anomaly=flags[:, 0],
        changepoint=flags[:, 1],
    )


def load_folder(folder: Path) -> list[LabelledFile]:
    """Every ``*.csv`` below ``folder`` (sorted by path)."""
    if not folder.is_dir():
        what = "is not a folder" if folder.exists() else "does not exist"
        raise LabelledDataError(f"{folder} {what}")
    paths = sorted(folder.rglob("*.csv"))
    if not paths:
        raise LabelledDataError(f"{folder}: no .csv files found")
    return [load_labelled(path) for path in paths]


def _time(text: str, path: Path, line: int) -> float:
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise LabelledDataError(f"{path}:{line}: {TIME} {text!r} is not an ISO 8601 time") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def _number(text: str, column: str, path: Path, line: int) -> float:
    try:
        value = float(text)
    except ValueError:
        raise LabelledDataError(
            f"{path}:{line}: column {column}: {text!r} is not a number"
        ) from None
    if not np.isfinite(value):
        raise LabelledDataError(f"{path}:{line}: column {column}: {text!r} is not a finite number")
    return value


def _flag(text: str, column: str, path: Path, line: int) -> bool:
    value = text.strip()
    if value in ("0", "0.0", "1", "1.0"):
        return value.startswith("1")
    raise LabelledDataError(f"{path}:{line}: column {column}: {text!r} is not 0 or 1")

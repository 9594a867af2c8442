"""Reading the AI4I 2020 CSV into typed numpy columns, with a clear error for bad input."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from plantwin.core.errors import PlantwinError

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.int64]

MODES = ("TWF", "HDF", "PWF", "OSF", "RNF")
ANY = "Machine failure"
TYPES = ("L", "M", "H")  # product quality, low to high
SIGNALS = {
    "air": "Air temperature [K]",
    "process": "Process temperature [K]",
    "speed": "Rotational speed [rpm]",
    "torque": "Torque [Nm]",
    "wear": "Tool wear [min]",
}
REQUIRED = ("Type", *SIGNALS.values(), ANY, *MODES)


class DatasetError(PlantwinError):
    """An evaluation data set is missing or malformed; the message names the file and line."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Ai4iData:
    """The AI4I records as columns: product type (0=L, 1=M, 2=H), process signals, labels."""

    type_code: IntArray
    air: FloatArray  # K
    process: FloatArray  # K
    speed: FloatArray  # rpm
    torque: FloatArray  # Nm
    wear: FloatArray  # min
    labels: dict[str, BoolArray]  # each of MODES and ANY

    def __len__(self) -> int:
        return len(self.type_code)


def load_ai4i(path: Path) -> Ai4iData:
    """Read the CSV (UTF-8, BOM allowed); raise DatasetError naming file:line on bad input."""
    if not path.is_file():
        what = "is not a file" if path.exists() else "does not exist"
        raise DatasetError(f"{path} {what}")
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            # (line number, fields), blank lines left out
            rows = [(n, row) for n, row in enumerate(csv.reader(handle), start=1) if row]
    except (OSError, UnicodeDecodeError, csv.Error) as error:
        raise DatasetError(f"{path}: cannot read as CSV: {error}") from error
    if not rows:
        raise DatasetError(f"{path}: empty file, expected a header with {', '.join(REQUIRED)}")
    header_line, header = rows[0][0], [name.strip() for name in rows[0][1]]
    missing = [name for name in REQUIRED if name not in header]
    if missing:
        raise DatasetError(f"{path}:{header_line}: missing column(s) {', '.join(missing)}")
    body = rows[1:]
    if not body:
        raise DatasetError(f"{path}: no data rows after the header")
    index = {name: header.index(name) for name in REQUIRED}
    columns: dict[str, list[float]] = {name: [] for name in REQUIRED}
    for line, row in body:
        if len(row) != len(header):
            raise DatasetError(f"{path}:{line}: {len(row)} fields, the header has {len(header)}")
        for name in REQUIRED:
            columns[name].append(_value(row[index[name]], name, path, line))
    signal = {key: np.asarray(columns[name], dtype=np.float64) for key, name in SIGNALS.items()}
    return Ai4iData(
        type_code=np.asarray(columns["Type"], dtype=np.int64),
        air=signal["air"],
        process=signal["process"],
        speed=signal["speed"],
        torque=signal["torque"],
        wear=signal["wear"],
        labels={name: np.asarray(columns[name]) == 1.0 for name in (*MODES, ANY)},
    )


def _value(text: str, column: str, path: Path, line: int) -> float:
    """One cell as a number: the product type as its code, a label as 0/1, a signal as float."""
    text = text.strip()
    if column == "Type":
        if text not in TYPES:
            raise DatasetError(f"{path}:{line}: Type {text!r} is not one of L, M, H")
        return float(TYPES.index(text))
    try:
        value = float(text)
    except ValueError:
        raise DatasetError(f"{path}:{line}: {column} {text!r} is not a number") from None
    if not np.isfinite(value):
        raise DatasetError(f"{path}:{line}: {column} {text!r} is not finite")
    if column in (*MODES, ANY) and value not in (0.0, 1.0):
        raise DatasetError(f"{path}:{line}: {column} {text!r} is not 0 or 1")
    return value

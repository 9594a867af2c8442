"""Reading the NASA C-MAPSS text files (train_FDxxx, test_FDxxx, RUL_FDxxx)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from plantwin.core.errors import AnalyticsError

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

SUBSETS = ("FD001", "FD002", "FD003", "FD004")
COLUMNS = 26  # unit, cycle, 3 operational settings, 21 sensors
SENSOR_NAMES = tuple(f"s{i}" for i in range(1, 22))


@dataclass(frozen=True, slots=True, kw_only=True)
class Runs:
    """Engine trajectories, one row per engine and cycle, rows of one engine contiguous."""

    unit: IntArray
    cycle: IntArray
    settings: FloatArray  # (rows, 3)
    sensors: FloatArray  # (rows, 21)

    def last_rows(self) -> IntArray:
        """Index of each engine's last row, in the order engines appear."""
        ends = np.flatnonzero(np.diff(self.unit) != 0)
        return np.append(ends, len(self.unit) - 1).astype(np.int64)


@dataclass(frozen=True, slots=True, kw_only=True)
class CmapssSubset:
    """One C-MAPSS subset: run-to-failure training engines, truncated test engines and the
    true RUL after the last cycle of each test engine."""

    name: str
    train: Runs
    test: Runs
    true_rul: FloatArray  # one per test engine, in test-engine order


def load_subset(directory: Path, subset: str) -> CmapssSubset:
    """Read train_, test_ and RUL_<subset>.txt from `directory`; AnalyticsError says which file
    is missing or which line is malformed."""
    name = subset.upper()
    if name not in SUBSETS:
        raise AnalyticsError(f"unknown C-MAPSS subset {subset!r}; expected one of {SUBSETS}")
    if not directory.is_dir():
        raise AnalyticsError(f"C-MAPSS data directory '{directory}' does not exist")
    train = read_runs(directory / f"train_{name}.txt")
    test = read_runs(directory / f"test_{name}.txt")
    true_rul = read_rul(directory / f"RUL_{name}.txt")
    engines = len(test.last_rows())
    if len(true_rul) != engines:
        raise AnalyticsError(
            f"{directory / f'RUL_{name}.txt'}: {len(true_rul)} values for {engines} test engines"
        )
    return CmapssSubset(name=name, train=train, test=test, true_rul=true_rul)


def read_runs(path: Path) -> Runs:
    """One train_ or test_ file: 26 space-separated numbers per line."""
    table = _read_table(path, COLUMNS)
    unit = table[:, 0].astype(np.int64)
    cycle = table[:, 1].astype(np.int64)
    starts = np.flatnonzero(np.diff(unit) != 0) + 1
    if len(np.unique(unit)) != len(starts) + 1:
        raise AnalyticsError(f"{path}: rows of one engine are not contiguous")
    return Runs(unit=unit, cycle=cycle, settings=table[:, 2:5], sensors=table[:, 5:])


def read_rul(path: Path) -> FloatArray:
    """The RUL file: one non-negative number per line."""
    values = _read_table(path, 1)[:, 0]
    if (values < 0).any():
        line = int(np.flatnonzero(values < 0)[0]) + 1
        raise AnalyticsError(f"{path}:{line}: negative RUL {values[line - 1]:g}")
    return values


def _read_table(path: Path, columns: int) -> FloatArray:
    if not path.is_file():
        raise AnalyticsError(f"C-MAPSS file '{path}' does not exist")
    rows: list[list[float]] = []
    with path.open(encoding="ascii", errors="replace") as handle:
        for number, line in enumerate(handle, start=1):
            fields = line.split()
            if not fields:
                continue
            if len(fields) != columns:
                raise AnalyticsError(f"{path}:{number}: {len(fields)} columns, expected {columns}")
            try:
                rows.append([float(field) for field in fields])
            except ValueError:
                raise AnalyticsError(f"{path}:{number}: a value is not a number") from None
    if not rows:
        raise AnalyticsError(f"{path}: no data rows")
    return np.asarray(rows, dtype=np.float64)

"""Signal histories as plain columns: what the store holds for a few signals, for training."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from plantwin.core.errors import PlantwinError

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


class HistoryError(PlantwinError):
    """A history lacks a signal or the samples a model needs; the message says which."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Series:
    """One signal's samples in time order (ns UTC, value in the signal's unit)."""

    ts: IntArray
    value: FloatArray

    def __len__(self) -> int:
        return len(self.ts)

    def asof(self, ts: IntArray) -> FloatArray:
        """The last value at or before each time (NaN before the first sample)."""
        at = np.searchsorted(self.ts, ts, side="right") - 1
        out = np.full(len(ts), np.nan)
        ok = at >= 0
        out[ok] = self.value[at[ok]]
        return out

    def steps_up(self) -> IntArray:
        """Times where a counter rose (a part counted); repeats and the preset are left out."""
        if not len(self):
            return np.empty(0, dtype=np.int64)
        previous = np.concatenate(([0.0], self.value[:-1]))
        return self.ts[self.value > previous]


@dataclass(frozen=True, slots=True, kw_only=True)
class SignalHistory:
    """Series by signal key over ``[start_ns, end_ns)``."""

    start_ns: int
    end_ns: int
    series: Mapping[str, Series]

    def __getitem__(self, key: str) -> Series:
        found = self.series.get(key)
        if found is None:
            known = ", ".join(sorted(self.series)) or "none"
            msg = f"the history has no signal {key!r} (it has: {known})"
            raise HistoryError(msg)
        return found

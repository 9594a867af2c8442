"""Helpers for the demo-plant tests: constants and readings gathered into arrays."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

import plantwin.simulation.demo_plant as demo_pkg
from plantwin.core.samples import RawBatch

PLANT_FILE = Path(demo_pkg.__file__).parent / "machining-line.yaml"
S = 1_000_000_000
START = 1_767_225_600 * S  # 2026-01-01T00:00:00Z
DAY = 86_400


@dataclass(frozen=True, slots=True)
class Readings:
    """Batches concatenated, with per-address series."""

    address: NDArray[np.str_]
    ts: NDArray[np.int64]
    value: NDArray[np.float64]

    @classmethod
    def of(cls, batches: Iterable[RawBatch]) -> Readings:
        addr: list[str] = []
        ts: list[NDArray[np.int64]] = []
        val: list[NDArray[np.float64]] = []
        for b in batches:
            assert b.source == "demo"
            addr += b.address
            ts.append(b.ts)
            val.append(b.value)
        if not ts:
            return cls(np.array([], str), np.array([], np.int64), np.array([]))
        return cls(np.array(addr), np.concatenate(ts), np.concatenate(val))

    def series(self, address: str) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
        mask = self.address == address
        assert mask.any(), f"no readings from {address}"
        return self.ts[mask], self.value[mask]

    def at(self, address: str, ts: NDArray[np.int64]) -> NDArray[np.float64]:
        """The last value of ``address`` at or before each of ``ts``; NaN before the first."""
        t, v = self.series(address)
        i = np.searchsorted(t, ts, side="right") - 1
        return np.where(i >= 0, v[np.maximum(i, 0)], np.nan)

    def same_as(self, other: Readings) -> bool:
        return (
            np.array_equal(self.address, other.address)
            and np.array_equal(self.ts, other.ts)
            and np.array_equal(self.value, other.value)
        )

"""Increase of a counter signal over windows, robust to resets.

A counter (part count, energy) only grows, except when its source restarts it: a value below
the previous one is a reset, after which the counter counted up from zero, so that step adds
the new value. Each step between two samples is credited to the window holding the later
sample; the first step of a window starts at the last sample before it (the baseline).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from plantwin.processing.kpis.timeline import Span


@dataclass(frozen=True, slots=True, kw_only=True)
class Increase:
    value: float
    resets: int  # resets seen inside the window
    no_baseline: bool  # no sample before the window, and its first sample was not zero


def increases(
    ts: NDArray[np.int64], value: NDArray[np.float64], windows: list[Span]
) -> list[Increase]:
    """The increase in each [start, end) window of samples sorted by time."""
    if ts.shape[0] == 0:
        return [Increase(value=0.0, resets=0, no_baseline=False) for _ in windows]
    step = np.diff(value, prepend=value[0])
    reset = step < 0
    step = np.where(reset, value, step)  # after a reset the counter started from zero
    step[0] = 0.0
    csum = np.concatenate(([0.0], np.cumsum(step)))
    cres = np.concatenate(([0], np.cumsum(reset)))
    out: list[Increase] = []
    for lo, hi in windows:
        i, j = np.searchsorted(ts, [lo, hi], side="left")
        out.append(
            Increase(
                value=float(csum[j] - csum[i]),
                resets=int(cres[j] - cres[i]),
                no_baseline=bool(i == 0 and j > 0 and value[0] != 0.0),
            )
        )
    return out

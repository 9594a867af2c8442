"""Windowed features per engine and cycle, and the piecewise-linear RUL target.

Every row sees only its own engine's cycles up to and including itself, so the features of
the last cycle of a truncated test engine are computed exactly like those of a training row.
"""

from __future__ import annotations

import numpy as np

from plantwin.analytics.rul.data import FloatArray, IntArray

WINDOWS = (5, 10, 20, 30)
RUL_CAP = 125.0


def piecewise_target(unit: IntArray, cycle: IntArray, *, cap: float = RUL_CAP) -> FloatArray:
    """Cycles left until each training engine's last cycle, capped at `cap` (the usual
    assumption that wear is invisible early in life)."""
    last = np.zeros(len(unit))
    ends = np.append(np.flatnonzero(np.diff(unit) != 0), len(unit) - 1)
    starts = np.append(0, ends[:-1] + 1)
    for start, end in zip(starts, ends, strict=True):
        last[start : end + 1] = cycle[end]
    return np.minimum(last - cycle, cap)


def window_features(unit: IntArray, cycle: IntArray, values: FloatArray) -> FloatArray:
    """Per row: cycle number, each value's last reading, and over each trailing window its
    mean, standard deviation and least-squares slope; plus the mean since the engine's start."""
    blocks = [cycle[:, None].astype(np.float64), values]
    ends = np.append(np.flatnonzero(np.diff(unit) != 0), len(unit) - 1)
    starts = np.append(0, ends[:-1] + 1)
    per_window = np.zeros((len(unit), len(WINDOWS) * 3 + 1, values.shape[1]))
    for start, end in zip(starts, ends, strict=True):
        per_window[start : end + 1] = _engine_features(values[start : end + 1])
    blocks.append(per_window.reshape(len(unit), -1))
    return np.concatenate(blocks, axis=1)


def _engine_features(x: FloatArray) -> FloatArray:
    """(cycles, features, columns) for one engine, from running sums."""
    t = np.arange(len(x), dtype=np.float64)[:, None]
    sums = [_running(x), _running(x * x), _running(t * x), _running(t + 0 * x), _running(t * t)]
    out = []
    for window in WINDOWS:
        n, sx, sxx, stx, st, stt = _window(sums, window, len(x))
        mean = sx / n
        var = np.maximum(sxx / n - mean * mean, 0.0)
        denominator = n * stt - st * st
        slope = np.divide(
            n * stx - st * sx, denominator, out=np.zeros_like(sx), where=denominator > 0
        )
        out += [mean, np.sqrt(var), slope]
    out.append(np.cumsum(x, axis=0) / (t + 1))
    return np.stack(out, axis=1)


def _running(x: FloatArray) -> FloatArray:
    return np.concatenate([np.zeros((1, x.shape[1])), np.cumsum(x, axis=0)])


def _window(
    sums: list[FloatArray], window: int, length: int
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray, FloatArray, FloatArray]:
    stop = np.arange(1, length + 1)
    begin = np.maximum(stop - window, 0)
    n = (stop - begin).astype(np.float64)[:, None]
    sx, sxx, stx, st, stt = (s[stop] - s[begin] for s in sums)
    return n, sx, sxx, stx, st, stt

"""Window signals: tumbling and sliding aggregates (mean, RMS, ...) of another signal.

A window of width W emitted every P (P divides W) keeps per-period partial sums; when the
first sample of a later period arrives, each period that closed yields one output over the
last W/P periods, stamped at the period's end (so an output is never newer than the data
that closed it). A sample for a period already closed is late: it is counted and skipped.
Partial sums are kept in memory only; after a restart the first window is partial.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from plantwin.core.samples import Quality, SampleBatch
from plantwin.model.catalog import SignalCatalog
from plantwin.model.plant import WindowDef
from plantwin.model.schema import WindowFn


@dataclass(slots=True)
class _Period:
    index: int  # ts // every
    count: int = 0
    total: float = 0.0
    squares: float = 0.0
    low: float = math.inf
    high: float = -math.inf
    last: float = math.nan


@dataclass(slots=True)
class _Window:
    output: int  # signal id
    source: int
    spec: WindowDef
    periods: deque[_Period] = field(default_factory=deque)

    @property
    def span(self) -> int:
        return self.spec.width_ns // self.spec.every_ns


class WindowEngine:
    def __init__(self, catalog: SignalCatalog) -> None:
        self.windows: list[_Window] = []
        for key, sig in catalog.plant.signals.items():
            if sig.window is not None:
                self.windows.append(
                    _Window(
                        output=catalog.id(key),
                        source=catalog.id(sig.window.source),
                        spec=sig.window,
                    )
                )
        self.reads = np.zeros(catalog.size, np.bool_)
        self.by_source: dict[int, list[_Window]] = {}
        for window in self.windows:
            self.reads[window.source] = True
            self.by_source.setdefault(window.source, []).append(window)
        self.late_skipped = 0

    def compute(self, batch: SampleBatch) -> SampleBatch:
        """Outputs of the periods that samples in ``batch`` closed."""
        if not self.windows or len(batch) == 0:
            return SampleBatch.empty()
        rows = np.flatnonzero(self.reads[batch.signal] & ((batch.quality & Quality.BAD) == 0))
        if rows.size == 0:
            return SampleBatch.empty()
        signal, ts, value = batch.signal[rows], batch.ts[rows], batch.value[rows]
        out_sig: list[int] = []
        out_ts: list[int] = []
        out_val: list[float] = []
        for source in np.unique(signal).tolist():
            mine = np.flatnonzero(signal == source)
            mine = mine[np.argsort(ts[mine], kind="stable")]
            for window in self.by_source[source]:
                every = window.spec.every_ns
                period = ts[mine] // every
                edges = np.flatnonzero(np.diff(period)) + 1
                starts = np.concatenate(([0], edges))
                for k, start in enumerate(starts.tolist()):
                    end = int(edges[k]) if k < edges.size else mine.size
                    values = value[mine[start:end]]
                    self._add(window, int(period[start]), values, out_sig, out_ts, out_val)
        return SampleBatch.of(out_sig, out_ts, out_val)

    def _add(
        self,
        window: _Window,
        index: int,
        values: NDArray[np.float64],
        out_sig: list[int],
        out_ts: list[int],
        out_val: list[float],
    ) -> None:
        periods = window.periods
        if periods and index < periods[-1].index:
            self.late_skipped += values.size
            return
        if periods and index > periods[-1].index:
            closed = periods[-1]
            out_sig.append(window.output)
            out_ts.append((closed.index + 1) * window.spec.every_ns)
            out_val.append(_aggregate(window.spec.fn, periods))
        if not periods or index > periods[-1].index:
            periods.append(_Period(index=index))
            while periods[0].index <= index - window.span:
                periods.popleft()
        current = periods[-1]
        current.count += int(values.size)
        current.total += float(values.sum())
        current.squares += float(np.square(values).sum())
        current.low = min(current.low, float(values.min()))
        current.high = max(current.high, float(values.max()))
        current.last = float(values[-1])


def _aggregate(fn: WindowFn, periods: deque[_Period]) -> float:  # noqa: PLR0911 - one per fn
    """The aggregate over the periods held, all closed (the newest one just closed)."""
    count = sum(p.count for p in periods)
    if fn is WindowFn.COUNT:
        return float(count)
    if count == 0:
        return math.nan
    total = sum(p.total for p in periods)
    if fn is WindowFn.SUM:
        return total
    if fn is WindowFn.MEAN:
        return total / count
    squares = sum(p.squares for p in periods)
    if fn is WindowFn.RMS:
        return math.sqrt(squares / count)
    if fn is WindowFn.STD:
        mean = total / count
        return math.sqrt(max(squares / count - mean * mean, 0.0))
    if fn is WindowFn.MIN:
        return min(p.low for p in periods)
    if fn is WindowFn.MAX:
        return max(p.high for p in periods)
    return next(p.last for p in reversed(periods) if p.count)

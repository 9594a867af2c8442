"""Rule tables: rules of one family as arrays grouped by the signal they watch.

The rule engine (:mod:`plantwin.processing.rules`) classifies samples against these tables
in a few numpy operations per batch: limits (threshold, range) with their per-signal
"nothing can change here" bounds, and rate windows. Deviations, whose bounds depend on each
batch's reference values, are in :mod:`plantwin.processing.deviation_table`.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

from plantwin.core.samples import Quality
from plantwin.model.catalog import SignalCatalog
from plantwin.model.plant import RuleDef
from plantwin.twin.latest import NEVER

BAD = np.uint8(Quality.BAD)  # as a numpy scalar: enum attribute lookups cost on the hot path
TINY = 1e-12  # a relative deviation's reference closer to 0 than this has no percentage


class Table:
    """Rules of one family as arrays, grouped by the signal they watch (CSR by signal id)."""

    def __init__(self, rules: list[int], defs: list[RuleDef], catalog: SignalCatalog) -> None:
        self.size = len(rules)
        self.rule = np.array(rules, np.int64)
        self.signal = np.array([catalog.id(defs[i].signal or "") for i in rules], np.int64)
        self.entries: NDArray[np.int64] = np.argsort(self.signal, kind="stable").astype(np.int64)
        self.count: NDArray[np.int64] = np.bincount(self.signal, minlength=catalog.size).astype(
            np.int64
        )
        self.start: NDArray[np.int64] = (np.cumsum(self.count) - self.count).astype(np.int64)
        self.has: NDArray[np.bool_] = self.count > 0
        # Limits (NaN where a side has none) and deadbands, in the signal's terms.
        self.above = np.array([_nan(defs[i].above) for i in rules], np.float64)
        self.below = np.array([_nan(defs[i].below) for i in rules], np.float64)
        self.deadband = np.array([defs[i].deadband for i in rules], np.float64)

    def pairs(
        self, signal: NDArray[np.int32], rows: NDArray[np.intp]
    ) -> tuple[NDArray[np.intp], NDArray[np.int64]]:
        """Every (sample row, rule entry) pair for the given sample rows."""
        counts = self.count[signal[rows]]
        total = int(counts.sum())
        if total == 0:
            return np.empty(0, np.intp), np.empty(0, np.int64)
        pair_rows = np.repeat(rows, counts)
        firsts = np.cumsum(counts) - counts
        offsets = np.arange(total) - np.repeat(firsts, counts)
        entry = self.entries[self.start[signal[pair_rows]] + offsets]
        return pair_rows, entry

    def classify(
        self, entry: NDArray[np.int64], x: NDArray[np.float64]
    ) -> tuple[NDArray[np.bool_], NDArray[np.bool_]]:
        """Pairs beyond a limit (violating) and inside by at least the deadband (clear)."""
        above, below, band = self.above[entry], self.below[entry], self.deadband[entry]
        violating = (x > above) | (x < below)  # comparisons with NaN (no limit) are False
        inside = (x > above - band) | (x < below + band)
        clear = ~inside & ~np.isnan(x)
        return violating, clear


class AnalogTable(Table):
    """Threshold and range rules, with per-signal bounds of 'nothing can change'.

    For each signal, ``low < x < high`` holds where no rule on the signal can change given
    the rules' current conditions; the bounds are recomputed for a signal when one of its
    rules changes, so in a steady plant a batch costs two comparisons per sample.
    """

    def __init__(self, rules: list[int], defs: list[RuleDef], catalog: SignalCatalog) -> None:
        super().__init__(rules, defs, catalog)
        # Signals without rules keep (-inf, inf): all their samples are quick.
        self.low = np.full(catalog.size, -np.inf)
        self.high = np.full(catalog.size, np.inf)
        # Per signal: (rule, above, below, deadband) of its rules, as Python numbers (numpy
        # scalars would cost several times more in the loop of refresh).
        self.by_signal: dict[int, list[tuple[int, float, float, float]]] = {}
        for e, sig in enumerate(self.signal.tolist()):
            limits = (float(self.above[e]), float(self.below[e]), float(self.deadband[e]))
            self.by_signal.setdefault(sig, []).append((int(self.rule[e]), *limits))
        self.refresh(np.zeros(len(defs), np.bool_), None)

    def refresh(self, raw: NDArray[np.bool_], signals: set[int] | None) -> None:
        """Recompute the quick bounds of ``signals`` (all when None) from the raw conditions."""
        active = raw.tolist() if signals is None or len(signals) > 8 else raw
        for sig in self.by_signal if signals is None else signals:
            low, high = -math.inf, math.inf
            for rule, above, below, band in self.by_signal[sig]:
                if not active[rule]:  # changes only by crossing a limit
                    if not math.isnan(above):
                        high = min(high, above)
                    if not math.isnan(below):
                        low = max(low, below)
                elif math.isnan(below):  # active above: changes only by falling through the band
                    low = max(low, above - band)
                elif math.isnan(above):
                    high = min(high, below + band)
                else:  # active on both sides: the quiet zone is not one interval
                    low, high = math.inf, -math.inf
                    break
            self.low[sig], self.high[sig] = low, high
        self.stacked = np.concatenate([self.high, -self.low])  # as DeviationTable.bounds takes


class RateTable(Table):
    """Rate rules: change per second between the first samples of consecutive windows.

    Windows are aligned to multiples of the rule's ``over`` since the epoch; comparing the
    first sample of each window with the first of the one before is robust to sample noise
    and leaves one evaluation per window, not per sample.
    """

    def __init__(self, rules: list[int], defs: list[RuleDef], catalog: SignalCatalog) -> None:
        super().__init__(rules, defs, catalog)
        self.over = np.array([max(defs[i].over_ns, 1) for i in rules], np.int64)
        self.last_bucket = np.full(len(rules), np.iinfo(np.int64).min, np.int64)
        self.t0 = np.full(len(rules), NEVER, np.int64)
        self.v0 = np.zeros(len(rules), np.float64)
        # Per signal: the earliest time a sample can open a new window for one of its rules
        # (signals without rate rules: never).
        self.next_edge = np.full(catalog.size, np.iinfo(np.int64).max, np.int64)
        self.next_edge[self.has] = np.iinfo(np.int64).min
        self.earliest = int(self.next_edge.min())  # of all signals: a batch before it skips
        # Per signal: the greatest common divisor of its rules' windows (1 where none).
        self.divisor = np.ones(catalog.size, np.int64)
        for sig, over in zip(self.signal.tolist(), self.over.tolist(), strict=True):
            held = int(self.divisor[sig])
            self.divisor[sig] = over if held == 1 else math.gcd(held, over)

    def advance_edges(self, entries: NDArray[np.int64]) -> None:
        """Recompute the next window edge of the signals of ``entries`` after a walk."""
        signals = self.signal[entries]
        self.next_edge[signals] = np.iinfo(np.int64).max
        mine = mask(self.next_edge.size, signals)[self.signal]  # the rules on those signals
        last = self.last_bucket[mine]
        never = last == np.iinfo(np.int64).min
        edge = (np.where(never, 0, last) + 1) * self.over[mine]
        edge[never] = np.iinfo(np.int64).min
        np.minimum.at(self.next_edge, self.signal[mine], edge)
        self.earliest = int(self.next_edge.min())

    def slopes(
        self, entry: NDArray[np.int64], ts: NDArray[np.int64], value: NDArray[np.float64]
    ) -> NDArray[np.float64]:
        """Change per second from each window's first sample to the next, per rule.

        ``entry`` is grouped by rule and in time order within each; the first of a rule's
        group compares with the anchor kept from earlier batches. NaN where there is none.
        """
        first = np.ones(entry.size, np.bool_)
        first[1:] = entry[1:] != entry[:-1]
        t0 = np.empty_like(ts)
        v0 = np.empty_like(value)
        t0[1:], v0[1:] = ts[:-1], value[:-1]
        t0[first], v0[first] = self.t0[entry[first]], self.v0[entry[first]]
        last = np.ones(entry.size, np.bool_)
        last[:-1] = entry[1:] != entry[:-1]
        self.t0[entry[last]], self.v0[entry[last]] = ts[last], value[last]
        valid = (t0 != NEVER) & (ts > t0)
        with np.errstate(divide="ignore", invalid="ignore"):
            slope = (value - v0) / ((ts - t0) / 1e9)
        return np.where(valid, slope, np.nan)


def mask(size: int, index: NDArray[np.integer]) -> NDArray[np.bool_]:
    """A boolean array of ``size``, True at ``index`` (cheaper than ``np.isin`` per batch)."""
    out = np.zeros(size, np.bool_)
    out[index] = True
    return out


def _nan(value: float | None) -> float:
    return math.nan if value is None else value

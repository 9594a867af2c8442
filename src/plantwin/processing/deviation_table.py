"""Deviation rules as arrays: a signal against a reference signal, with quiet bounds per batch.

A deviation rule compares ``d = x - ref`` (or ``d`` in percent of ``|ref|``) with its limits,
``ref`` being the reference's value at the sample's time. Finding that value takes a sorted
search per sample, so each batch is first checked against bounds on ``x`` alone that hold
for *every* reference value the batch can pair a sample with (the value held before the
batch and each good reference sample in it): a sample inside them cannot change any
deviation rule of its signal, whichever reference value it meets. In a steady plant that is
every sample, and the batch costs a few operations on arrays of rules, none per sample.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from plantwin.core.samples import SampleBatch
from plantwin.model.catalog import SignalCatalog
from plantwin.model.plant import RuleDef
from plantwin.processing.rule_tables import BAD, TINY, Table

# The quiet bounds stay this far (relative) inside the exact ones, so rounding in the exact
# comparison can never disagree with them; a sample in the margin takes the exact path.
MARGIN = 1e-9


@dataclass(frozen=True, slots=True)
class ReferenceSpan:
    """What reference values a batch's samples can meet, per signal id, and the newest ones.

    ``ends`` holds the least values by signal id, then the greatest: they span the value
    held before the batch and the batch's good samples (NaN where neither exists: a
    deviation from it is NaN, which changes nothing).
    """

    ends: NDArray[np.float64]
    newest_signal: NDArray[np.intp]  # reference signals with a good sample in the batch
    newest_value: NDArray[np.float64]  # ... and the value of the newest one

    @property
    def low(self) -> NDArray[np.float64]:
        return self.ends[: self.ends.size // 2]

    @property
    def high(self) -> NDArray[np.float64]:
        return self.ends[self.ends.size // 2 :]

    @classmethod
    def of(
        cls,
        held: NDArray[np.float64],
        is_reference: NDArray[np.bool_],
        signal: NDArray[np.intp],
        value: NDArray[np.float64],
        good: NDArray[np.bool_],
    ) -> ReferenceSpan:
        """The span for a canonical batch, given the values held before it."""
        rows = (is_reference.take(signal) & good).nonzero()[0]
        ends = np.concatenate((held, held))
        if not rows.size:
            return cls(ends, np.empty(0, np.intp), np.empty(0, np.float64))
        sig, val = signal.take(rows), value.take(rows)
        n = held.size
        np.fmin.at(ends[:n], sig, val)  # fmin/fmax: a NaN on one side leaves the other
        np.fmax.at(ends[n:], sig, val)
        last = np.empty(rows.size, np.bool_)  # canonical: the last row per signal is newest
        last[-1] = True
        np.not_equal(sig[1:], sig[:-1], out=last[:-1])
        return cls(ends, sig[last], val[last])


class DeviationTable(Table):
    """Deviation rules, with the exact per-sample deviation and per-batch quiet bounds.

    Each rule gives two constraints on ``x`` for its current condition: an upper one
    ``x < g(ref)`` and a lower one, written ``-x < g(ref)`` so that one minimum per signal
    serves both. ``g(ref) = s * ref + k * |ref| + c`` (``s`` the side's sign, ``k`` the limit
    in percent / 100 for relative rules, else 0, ``c`` the limit for absolute rules) is
    piecewise linear with its only kink at 0, so its least value over the batch's reference
    range lies at either end, or at 0 if the range spans it.
    """

    def __init__(self, rules: list[int], defs: list[RuleDef], catalog: SignalCatalog) -> None:
        super().__init__(rules, defs, catalog)
        self.reference = np.array([catalog.id(defs[i].reference or "") for i in rules], np.intp)
        self.relative = np.array([defs[i].relative for i in rules], np.bool_)
        self.catalog_size = n = catalog.size
        m = 2 * self.size  # constraints: the upper ones, then the lower ones
        # Each constraint's reference in ReferenceSpan.ends: its least value, then greatest.
        ref2 = np.concatenate([self.reference, self.reference])
        self._ends = np.concatenate([ref2, ref2 + n])
        # Where each constraint's bound goes: [high by signal id, -low by signal id].
        self._slot = np.concatenate([self.signal, self.signal + n]).astype(np.intp)
        self._sign = np.concatenate([np.ones(self.size), -np.ones(self.size)])
        self._sign2 = np.concatenate([self._sign, self._sign])
        self._rel2 = np.concatenate([self.relative, self.relative])
        self._k2 = np.zeros(2 * m)  # k per constraint, at both ends of the span
        self._c = np.full(m, np.inf)
        self._margin = np.zeros(m)  # MARGIN * (1 + |k|): the margin per unit of |ref|
        self._margin_c = np.zeros(m)  # MARGIN * |c| where finite
        self.refresh(np.zeros(len(defs), np.bool_), None)

    def refresh(self, raw: NDArray[np.bool_], signals: set[int] | None = None) -> None:
        """Recompute the constraints from the rules' raw conditions (all rules: it is cheap)."""
        on = raw[self.rule]
        # Inactive: it changes by d > above or d < below. Active on one side: by leaving the
        # deadband on that side. (A NaN limit is no constraint.)
        upper = np.where(on, self.below + self.deadband, self.above)  # quiet while d < upper
        lower = np.where(on, self.above - self.deadband, self.below)  # quiet while d > lower
        limit = np.concatenate([upper, lower])
        scaled = self._sign * limit
        k = np.where(self._rel2, scaled / 100.0, 0.0)
        c = np.where(self._rel2, 0.0, scaled)
        none = np.isnan(limit)
        k[none], c[none] = 0.0, np.inf
        # Active on both sides: the quiet zone is not one interval; check every sample.
        both = on & ~np.isnan(self.above) & ~np.isnan(self.below)
        both2 = np.concatenate([both, both])
        k[both2], c[both2] = 0.0, -np.inf
        self._k2 = np.concatenate([k, k])
        self._c = c
        self._margin = MARGIN * (1.0 + np.abs(k))
        self._margin_c = MARGIN * np.where(np.isfinite(c), np.abs(c), 0.0)

    def bounds(
        self, span: ReferenceSpan, others: NDArray[np.float64]
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """``(low, high)`` per signal id where no deviation rule (and no other) can change.

        ``others`` holds the other rules' bounds as ``[high, -low]`` by signal id.
        """
        r = span.ends.take(self._ends)  # each constraint's reference range: least, greatest
        a = np.abs(r)
        g = r * self._sign2
        g += a * self._k2
        m = self._c.size
        lo, hi = r[:m], r[m:]
        bound = np.minimum(g[:m], g[m:])
        bound += self._c
        cross = lo * hi < 0  # the kink at 0 lies inside the range
        if np.count_nonzero(cross):
            bound = np.where(cross, np.minimum(bound, self._c), bound)
        bound -= (a[:m] + a[m:]) * self._margin + self._margin_c
        out = others.copy()
        # fmin skips NaN: no reference value known at all means no deviation to change.
        np.fmin.at(out, self._slot, bound)
        n = self.catalog_size
        return -out[n:], out[:n]

    def deviation(
        self,
        entry: NDArray[np.int64],
        x: NDArray[np.float64],
        ts: NDArray[np.int64],
        batch: SampleBatch,
        held: NDArray[np.float64],
    ) -> NDArray[np.float64]:
        """Signal minus its reference as it was at each sample's time.

        The reference's value is its newest sample in the batch at or before the sample's
        time, else the value held before the batch.
        """
        ref = self.reference[entry]
        base = held[ref]
        # Find each pair's reference sample in the canonical batch by one sorted key,
        # (signal, time): time as an offset in the batch when it fits, else as a rank.
        t0 = int(batch.ts.min())
        span = int(batch.ts.max()) - t0
        if span < 1 << 40 and int(batch.signal.max()) < 1 << 22:
            batch_key = (batch.signal.astype(np.int64) << 40) | (batch.ts - t0)
            pair_key = (ref.astype(np.int64) << 40) | (ts - t0)
        else:
            times = np.unique(batch.ts)
            width = times.size + 1
            batch_key = batch.signal.astype(np.int64) * width + np.searchsorted(times, batch.ts)
            pair_key = ref * width + np.searchsorted(times, ts, side="right") - 1
        pos = np.searchsorted(batch_key, pair_key, side="right") - 1
        at = np.maximum(pos, 0)
        found = (pos >= 0) & (batch.signal[at] == ref) & ((batch.quality[at] & BAD) == 0)
        base = np.where(found, batch.value[at], base)
        diff = x - base
        with np.errstate(divide="ignore", invalid="ignore"):
            # In percent of a reference at (or near) zero the deviation is undefined: NaN,
            # neither violating nor clear, instead of an infinite value in the alarm.
            scale = np.where(np.abs(base) > TINY, np.abs(base), np.nan)
            # NaN (no reference yet) compares False: neither violating nor clear.
            return np.where(self.relative[entry], diff / scale * 100.0, diff)

"""Coalescing sample buffer with per-signal watermarks: pure numpy, cheap, on the hot path.

A store accepts many small batches; writing each one costs a transaction. The buffer keeps
accepted batches in a list until the store writes them as one. It also keeps, per signal, the
watermark: the highest timestamp accepted so far (committed or pending). A row above its
signal's watermark cannot be a duplicate, which is the common case; only rows at or below it
(late or replayed) need a look at what is already stored. A second watermark, the highest
committed timestamp, tells which of those late rows can only collide with pending rows, so a
retry of a batch that is still pending costs no database query.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from plantwin.core.errors import StoreError
from plantwin.core.samples import I32, I64, SampleBatch

NO_SAMPLES = np.iinfo(np.int64).min  # watermark of a signal that has no sample yet


def check_signal_ids(batch: SampleBatch, registered: int) -> None:
    """Raise if the batch refers to a signal id that was never registered."""
    if len(batch) == 0:
        return
    low, high = int(batch.signal.min()), int(batch.signal.max())
    if low < 0 or high >= registered:
        bad = low if low < 0 else high
        msg = (
            f"sample batch refers to signal id {bad}, but the store has {registered} registered "
            f"signals (ids 0..{registered - 1}); call register_signals first"
        )
        raise StoreError(msg)


def member_mask(signal: I32, ts: I64, in_signal: I32, in_ts: I64) -> NDArray[np.bool_]:
    """Which (signal, ts) pairs of the first set also occur in the second set.

    Both sets must be free of duplicate pairs (canonical batches are).
    """
    n = signal.shape[0]
    if n == 0 or in_signal.shape[0] == 0:
        return np.zeros(n, np.bool_)
    sig = np.concatenate([signal, in_signal])
    t = np.concatenate([ts, in_ts])
    origin = np.concatenate([np.zeros(n, np.int8), np.ones(in_signal.shape[0], np.int8)])
    order = np.lexsort((origin, t, sig))
    same = (sig[order][1:] == sig[order][:-1]) & (t[order][1:] == t[order][:-1])
    # After the sort a query row (origin 0) is directly followed by its match (origin 1).
    hit = same & (origin[order][:-1] == 0)
    mask = np.zeros(n, np.bool_)
    mask[order[:-1][hit]] = True
    return mask


class SampleBuffer:
    """Pending batches and per-signal watermarks; every method is synchronous numpy."""

    def __init__(self) -> None:
        self.watermark: I64 = np.empty(0, np.int64)  # highest ts accepted, per signal
        self.durable: I64 = np.empty(0, np.int64)  # highest ts committed, per signal
        self._batches: list[SampleBatch] = []
        self._spans: list[tuple[int, int]] = []  # (min ts, max ts) of each pending batch
        self.rows = 0  # pending rows
        self.accepted = 0  # rows ever accepted; flushes record how far they got
        self.committed = 0  # ``accepted`` as it was when the last successful flush began

    @property
    def signals(self) -> int:
        return int(self.watermark.shape[0])

    def grow(self, signals: int) -> None:
        """Make room for newly registered signal ids."""
        extra = signals - self.signals
        if extra > 0:
            self.watermark = np.concatenate([self.watermark, np.full(extra, NO_SAMPLES)])
            self.durable = np.concatenate([self.durable, np.full(extra, NO_SAMPLES)])

    def committed_up_to(self, signal: I32, ts: I64) -> None:
        """Raise both watermarks to committed data (``latest`` at open, each flush's newest)."""
        np.maximum.at(self.durable, signal, ts)
        np.maximum.at(self.watermark, signal, ts)

    def maybe_stored(self, batch: SampleBatch) -> NDArray[np.bool_]:
        """Rows of a batch that might be committed already (not above the durable mark)."""
        result: NDArray[np.bool_] = batch.ts <= self.durable[batch.signal]
        return result

    def split(self, batch: SampleBatch) -> tuple[SampleBatch, SampleBatch]:
        """A canonical batch as (rows above their watermark, rows at or below it)."""
        fresh = batch.ts > self.watermark[batch.signal]
        if fresh.all():
            return batch, SampleBatch.empty()
        if not fresh.any():
            return SampleBatch.empty(), batch
        return batch.take(fresh), batch.take(~fresh)

    def pending_mask(self, batch: SampleBatch) -> NDArray[np.bool_]:
        """Which rows of a canonical batch are already pending (not yet written)."""
        if not self._batches or len(batch) == 0:
            return np.zeros(len(batch), np.bool_)
        lo, hi = int(batch.ts.min()), int(batch.ts.max())
        overlapping = [
            b
            for b, (b_lo, b_hi) in zip(self._batches, self._spans, strict=True)
            if b_lo <= hi and b_hi >= lo
        ]
        if not overlapping:
            return np.zeros(len(batch), np.bool_)
        pending = SampleBatch.concat(overlapping)
        near = pending.take((pending.ts >= lo) & (pending.ts <= hi))
        return member_mask(batch.signal, batch.ts, near.signal, near.ts)

    def add(self, batch: SampleBatch) -> None:
        """Accept a canonical batch of new rows."""
        if len(batch) == 0:
            return
        # Own copies: the caller may reuse its arrays once append() returns (a few µs per batch).
        batch = SampleBatch(*(getattr(batch, c).copy() for c in SampleBatch.COLUMNS))
        self._batches.append(batch)
        self._spans.append((int(batch.ts.min()), int(batch.ts.max())))
        self.rows += len(batch)
        self.accepted += len(batch)
        ends = batch.group_ends()
        sig = batch.signal[ends]
        self.watermark[sig] = np.maximum(self.watermark[sig], batch.ts[ends])

    def take(self) -> tuple[list[SampleBatch], int]:
        """Everything pending, and the ``accepted`` mark a successful write of it reaches."""
        batches, self._batches, self._spans, self.rows = self._batches, [], [], 0
        return batches, self.accepted

    def restore(self, batches: list[SampleBatch]) -> None:
        """Put back batches whose write failed, ahead of what arrived since."""
        self._batches[:0] = batches
        self._spans[:0] = [(int(b.ts.min()), int(b.ts.max())) for b in batches]
        self.rows += sum(len(b) for b in batches)

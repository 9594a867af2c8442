"""Latest value, timestamp and quality per signal, as arrays indexed by signal id."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from plantwin.core.samples import SampleBatch
from plantwin.core.store import Latest

NEVER = np.iinfo(np.int64).min


class LatestValues:
    def __init__(self, size: int) -> None:
        self.ts: NDArray[np.int64] = np.full(size, NEVER, np.int64)
        self.value: NDArray[np.float64] = np.full(size, np.nan)
        self.quality: NDArray[np.uint8] = np.zeros(size, np.uint8)

    def update(self, batch: SampleBatch) -> None:
        """Take each signal's newest sample of a canonical batch if it is newer than held.

        Older samples (out of order) go to history but never move the live value back.
        """
        if len(batch) == 0:
            return
        ends = batch.group_ends()
        sig = batch.signal[ends]
        ts = batch.ts[ends]
        newer = ts >= self.ts[sig]
        if not newer.all():
            sig, ends, ts = sig[newer], ends[newer], ts[newer]
        self.ts[sig] = ts
        self.value[sig] = batch.value[ends]
        self.quality[sig] = batch.quality[ends]

    def restore(self, latest: Latest) -> None:
        inside = latest.signal < self.ts.shape[0]
        sig = latest.signal[inside]
        self.ts[sig] = latest.ts[inside]
        self.value[sig] = latest.value[inside]
        self.quality[sig] = latest.quality[inside]

    def has(self, sid: int) -> bool:
        return bool(self.ts[sid] != NEVER)

"""Columnar sample batches: the unit of work on the hot path.

A batch holds four aligned arrays instead of one Python object per sample, so ingest, twin
state and store work with numpy operations whose cost is per batch, not per sample.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import IntFlag
from typing import ClassVar

import numpy as np
from numpy.typing import NDArray

I32 = NDArray[np.int32]
I64 = NDArray[np.int64]
F64 = NDArray[np.float64]
U8 = NDArray[np.uint8]


class Quality(IntFlag):
    """Per-sample quality bits; 0 is good. Stored as uint8."""

    GOOD = 0
    UNCERTAIN = 1  # source said uncertain (e.g. OPC UA Uncertain status)
    BAD = 2  # source said bad, or the value is not a finite number
    OUT_OF_RANGE = 4  # outside the signal's expected range from the plant file
    STALE = 8  # no fresh sample within the expected interval
    SUBSTITUTED = 16  # value computed or replaced (derived signals with a non-good input)


@dataclass(frozen=True, slots=True)
class SampleBatch:
    """Samples of mapped signals: signal id, UTC timestamp (ns), value (signal unit), quality."""

    signal: I32
    ts: I64
    value: F64
    quality: U8

    COLUMNS: ClassVar[tuple[str, ...]] = ("signal", "ts", "value", "quality")

    def __post_init__(self) -> None:
        n = self.signal.shape[0]
        if self.ts.shape[0] != n or self.value.shape[0] != n or self.quality.shape[0] != n:
            msg = (
                f"SampleBatch columns differ in length: signal {n}, ts {self.ts.shape[0]}, "
                f"value {self.value.shape[0]}, quality {self.quality.shape[0]}"
            )
            raise ValueError(msg)

    def __len__(self) -> int:
        return int(self.signal.shape[0])

    @classmethod
    def empty(cls) -> SampleBatch:
        return cls(
            signal=np.empty(0, np.int32),
            ts=np.empty(0, np.int64),
            value=np.empty(0, np.float64),
            quality=np.empty(0, np.uint8),
        )

    @classmethod
    def of(
        cls,
        signal: object,
        ts: object,
        value: object,
        quality: object | None = None,
    ) -> SampleBatch:
        """Build a batch from array-likes, converting to the canonical dtypes."""
        sig = np.asarray(signal, dtype=np.int32).reshape(-1)
        qual = (
            np.zeros(sig.shape[0], np.uint8)
            if quality is None
            else np.asarray(quality, dtype=np.uint8).reshape(-1)
        )
        return cls(
            signal=sig,
            ts=np.asarray(ts, dtype=np.int64).reshape(-1),
            value=np.asarray(value, dtype=np.float64).reshape(-1),
            quality=qual,
        )

    @classmethod
    def concat(cls, batches: list[SampleBatch]) -> SampleBatch:
        if not batches:
            return cls.empty()
        if len(batches) == 1:
            return batches[0]
        return cls(
            signal=np.concatenate([b.signal for b in batches]),
            ts=np.concatenate([b.ts for b in batches]),
            value=np.concatenate([b.value for b in batches]),
            quality=np.concatenate([b.quality for b in batches]),
        )

    @classmethod
    def merge_disjoint(cls, a: SampleBatch, b: SampleBatch) -> SampleBatch:
        """Two canonical batches with no signal in common, as one canonical batch.

        Cheaper than ``concat(...).canonical()``: each signal's rows are already in time
        order, so a stable sort by signal alone restores the canonical order.
        """
        if not len(b):
            return a
        if not len(a):
            return b
        both = cls.concat([a, b])
        return both.take(np.argsort(both.signal, kind="stable"))

    def take(self, index: NDArray[np.intp] | NDArray[np.bool_]) -> SampleBatch:
        """Rows selected by an integer index or a boolean mask."""
        return SampleBatch(
            signal=self.signal[index],
            ts=self.ts[index],
            value=self.value[index],
            quality=self.quality[index],
        )

    def canonical(self) -> SampleBatch:
        """Sorted by (signal, ts) with duplicate (signal, ts) pairs removed, the last one kept.

        Later stages rely on this order to find per-signal groups with one ``np.diff``.
        """
        n = len(self)
        if n <= 1:
            return self
        # Most batches arrive canonical already (from ingest); checking is O(n), sorting is not.
        step = np.diff(self.signal)
        if (step >= 0).all() and ((step > 0) | (np.diff(self.ts) > 0)).all():
            return self
        # A stable sort on ts then signal keeps arrival order among equal keys, so the
        # last of a run of duplicates is the last one that arrived.
        order = np.lexsort((self.ts, self.signal))
        sig = self.signal[order]
        ts = self.ts[order]
        keep = np.empty(n, np.bool_)
        keep[-1] = True
        np.logical_or(sig[1:] != sig[:-1], ts[1:] != ts[:-1], out=keep[:-1])
        if keep.all():
            if (order[1:] > order[:-1]).all():
                return self
            return self.take(order)
        return self.take(order[keep])

    def group_ends(self) -> NDArray[np.intp]:
        """Index of the last row of each signal's run; the batch must be canonical."""
        n = len(self)
        if n == 0:
            return np.empty(0, np.intp)
        return np.append(np.flatnonzero(self.signal[1:] != self.signal[:-1]), n - 1)


@dataclass(frozen=True, slots=True)
class RawBatch:
    """Readings as a connector delivers them: source addresses and values in source units.

    ``status`` carries the source's own quality as :class:`Quality` bits (UNCERTAIN, BAD,
    STALE).

    ``on_durable``, if set, is called once the samples of this batch (and of every batch
    before it) are durably accepted: committed to the store or written to its spool. A
    connector that acknowledges its source only then (MQTT QoS 1 with ``ack: stored``) sets
    it; it may be set on an empty batch, to acknowledge messages that held no sample.
    """

    source: str
    address: list[str]
    ts: I64
    value: F64
    status: U8
    on_durable: Callable[[], None] | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        n = len(self.address)
        if self.ts.shape[0] != n or self.value.shape[0] != n or self.status.shape[0] != n:
            msg = (
                f"RawBatch from {self.source!r} has columns of different lengths: "
                f"address {n}, ts {self.ts.shape[0]}, value {self.value.shape[0]}, "
                f"status {self.status.shape[0]}"
            )
            raise ValueError(msg)

    def __len__(self) -> int:
        return len(self.address)

    @classmethod
    def of(
        cls,
        source: str,
        address: list[str],
        ts: object,
        value: object,
        status: object | None = None,
    ) -> RawBatch:
        n = len(address)
        return cls(
            source=source,
            address=address,
            ts=np.asarray(ts, dtype=np.int64).reshape(-1),
            value=np.asarray(value, dtype=np.float64).reshape(-1),
            status=np.zeros(n, np.uint8)
            if status is None
            else np.asarray(status, dtype=np.uint8).reshape(-1),
        )

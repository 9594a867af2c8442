"""Derived signals evaluated on each batch, vectorised with sample-and-hold of the inputs.

For a derived signal, every timestamp at which one of its inputs has a new sample in the
batch yields one output sample; the other inputs contribute their value at or before that
time (from the batch, else the value held before the batch). Outputs of earlier derived
signals feed later ones, in the order the plant model resolved.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from plantwin.core.samples import Quality, SampleBatch
from plantwin.model.catalog import SignalCatalog
from plantwin.model.expressions import Evaluator
from plantwin.twin.latest import LatestValues

Group = tuple[NDArray[np.int64], NDArray[np.float64], NDArray[np.uint8]]


@dataclass(frozen=True, slots=True)
class _Item:
    output: int
    names: tuple[str, ...]
    inputs: NDArray[np.int32]
    constants: dict[str, float]
    evaluate: Evaluator
    scale: float
    shift: float


class DerivedEngine:
    def __init__(self, catalog: SignalCatalog) -> None:
        self.items: list[_Item] = []
        self.reads = np.zeros(catalog.size, np.bool_)  # signal feeds some derived signal
        for key, sig in catalog.plant.signals.items():
            if sig.derived is None:
                continue
            names = tuple(sig.derived.inputs)
            inputs = np.array([catalog.id(sig.derived.inputs[n]) for n in names], np.int32)
            self.reads[inputs] = True
            self.items.append(
                _Item(
                    output=catalog.id(key),
                    names=names,
                    inputs=inputs,
                    constants=dict(sig.derived.constants),
                    evaluate=sig.derived.evaluate,
                    scale=sig.derived.scale,
                    shift=sig.derived.shift,
                )
            )
        self.non_finite = 0

    def compute(self, batch: SampleBatch, held: LatestValues) -> SampleBatch:
        """Derived samples for a canonical batch; ``held`` is the state before the batch."""
        if not self.items or len(batch) == 0 or not self.reads[batch.signal].any():
            return SampleBatch.empty()
        groups = _groups(batch, self.reads)
        outputs: list[SampleBatch] = []
        for item in self.items:
            present = [int(s) for s in item.inputs if int(s) in groups]
            if not present:
                continue
            out = self._one(item, present, groups, held)
            if out is not None:
                groups[item.output] = (out.ts, out.value, out.quality)
                outputs.append(out)
        return SampleBatch.concat(outputs)

    def _one(
        self, item: _Item, present: list[int], groups: dict[int, Group], held: LatestValues
    ) -> SampleBatch | None:
        times = np.unique(np.concatenate([groups[s][0] for s in present]))
        values: dict[str, NDArray[np.float64]] = {}
        quality = np.zeros(times.shape[0], np.uint8)
        valid = np.ones(times.shape[0], np.bool_)
        for name, sid in zip(item.names, item.inputs.tolist(), strict=True):
            group = groups.get(sid)
            if group is None:
                if not held.has(sid):
                    return None
                values[name] = np.full(times.shape[0], held.value[sid])
                quality |= held.quality[sid]
                continue
            ts, val, qual = group
            pos = np.searchsorted(ts, times, side="right") - 1
            before = pos < 0
            safe = np.maximum(pos, 0)
            column = val[safe]
            column_q = qual[safe]
            if before.any():
                if held.has(sid):
                    column = np.where(before, held.value[sid], column)
                    column_q = np.where(before, held.quality[sid], column_q)
                else:
                    valid &= ~before
            values[name] = column
            quality |= column_q
        for name, constant in item.constants.items():
            values[name] = np.full(times.shape[0], constant)
        result = item.evaluate(values)
        if result.ndim == 0:
            result = np.full(times.shape[0], float(result))
        result = result * item.scale + item.shift
        finite = np.isfinite(result)
        keep = valid & finite
        self.non_finite += int((valid & ~finite).sum())
        if not keep.any():
            return None
        if not keep.all():
            times, result, quality = times[keep], result[keep], quality[keep]
        quality = quality | np.uint8(Quality.SUBSTITUTED) * (quality != 0).astype(np.uint8)
        signal = np.full(times.shape[0], item.output, np.int32)
        return SampleBatch(signal=signal, ts=times, value=result, quality=quality)


def _groups(batch: SampleBatch, wanted: NDArray[np.bool_]) -> dict[int, Group]:
    """Per-signal slices of a canonical batch, for the signals derived ones read."""
    ends = batch.group_ends()
    starts = np.concatenate(([0], ends[:-1] + 1))
    sig = batch.signal[ends]
    pick = wanted[sig]
    out: dict[int, Group] = {}
    for sid, start, end in zip(
        sig[pick].tolist(), starts[pick].tolist(), ends[pick].tolist(), strict=True
    ):
        out[sid] = (batch.ts[start : end + 1], batch.value[start : end + 1], batch.quality[start : end + 1])
    return out

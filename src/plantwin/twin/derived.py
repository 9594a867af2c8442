"""Derived signals evaluated on each batch, vectorised with sample-and-hold of the inputs.

For a derived signal, every timestamp at which one of its inputs has a new sample in the
batch yields one output sample; the other inputs contribute their value at or before that
time (from the batch, else the value held before the batch).

Instances of one expression (every machine of a type has its own ``load = power / rated``)
form a group evaluated in one pass: the cost per batch grows with the number of distinct
expressions, not with the number of machines. Groups run by level, so a derived signal that
reads another derived signal sees its outputs from the same batch.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from plantwin.core.samples import Quality, SampleBatch
from plantwin.model.catalog import SignalCatalog
from plantwin.model.expressions import Evaluator
from plantwin.model.plant import DerivedDef
from plantwin.twin.latest import NEVER, LatestValues

_SUBSTITUTED = np.uint8(Quality.SUBSTITUTED)


@dataclass(slots=True)
class _Group:
    """Instances of one expression whose inputs do not overlap."""

    level: int
    text: str
    names: tuple[str, ...]
    constant_names: tuple[str, ...]
    evaluate: Evaluator
    inputs: list[list[int]] = field(default_factory=list)  # instance -> input ids by name
    outputs: list[int] = field(default_factory=list)
    constants: list[list[float]] = field(default_factory=list)
    scale: list[float] = field(default_factory=list)
    shift: list[float] = field(default_factory=list)
    used: set[int] = field(default_factory=set)


@dataclass(frozen=True, slots=True)
class _Compiled:
    """A group as arrays; ``owner``/``position`` map an input signal id to its slot."""

    names: tuple[str, ...]
    constant_names: tuple[str, ...]
    evaluate: Evaluator
    inputs: NDArray[np.int32]  # (instances, inputs)
    outputs: NDArray[np.int32]
    constants: NDArray[np.float64]  # (instances, constants)
    scale: NDArray[np.float64]
    shift: NDArray[np.float64]
    owner: NDArray[np.int32]  # signal id -> instance, -1 if not an input
    position: NDArray[np.int32]  # signal id -> input position


class DerivedEngine:
    def __init__(self, catalog: SignalCatalog) -> None:
        levels = _levels(catalog)
        groups: list[_Group] = []
        for key, level in sorted(levels.items(), key=lambda kv: kv[1]):
            derived = catalog.plant.signals[key].derived
            assert derived is not None
            _place(groups, level, catalog.id(key), derived, catalog)
        self.groups = [_compile(g, catalog.size) for g in sorted(groups, key=lambda g: g.level)]
        self.reads = np.zeros(catalog.size, np.bool_)
        for group in self.groups:
            self.reads |= group.owner >= 0
        self.non_finite = 0  # results that were NaN or infinite (e.g. division by zero)
        self.late_skipped = 0  # late input samples whose other inputs are only known later

    def compute(self, batch: SampleBatch, held: LatestValues) -> SampleBatch:
        """Derived samples for a canonical batch; ``held`` is the state before the batch."""
        if not self.groups or len(batch) == 0 or not self.reads[batch.signal].any():
            return SampleBatch.empty()
        outputs: list[SampleBatch] = []
        for group in self.groups:
            source = SampleBatch.concat([batch, *outputs]) if outputs else batch
            out = self._group(group, source, held)
            if out is not None:
                outputs.append(out)
        return SampleBatch.concat(outputs)

    def _group(
        self, group: _Compiled, batch: SampleBatch, held: LatestValues
    ) -> SampleBatch | None:
        owner = group.owner[batch.signal]
        rows = np.flatnonzero(owner >= 0)
        if rows.size == 0:
            return None
        inst = owner[rows]
        ts = batch.ts[rows]
        order = np.lexsort((ts, inst))
        inst, ts, rows = inst[order], ts[order], rows[order]
        pos = group.position[batch.signal[rows]]
        value, quality = batch.value[rows], batch.quality[rows]
        # One event per (instance, time) at which any input changed.
        first = np.ones(inst.shape[0], np.bool_)
        first[1:] = (inst[1:] != inst[:-1]) | (ts[1:] != ts[:-1])
        times, rank = np.unique(ts, return_inverse=True)
        row_key = inst.astype(np.int64) * times.shape[0] + rank
        ev_inst, ev_ts, ev_key = inst[first], ts[first], row_key[first]
        n = ev_inst.shape[0]
        values: dict[str, NDArray[np.float64]] = {}
        ev_quality = np.zeros(n, np.uint8)
        valid = np.ones(n, np.bool_)
        late = np.zeros(n, np.bool_)
        for p, name in enumerate(group.names):
            mine = pos == p
            held_sig = group.inputs[ev_inst, p]
            column = held.value[held_sig]
            column_q = held.quality[held_sig]
            found = np.zeros(n, np.bool_)
            if mine.any():
                keys = row_key[mine]
                at = np.searchsorted(keys, ev_key, side="right") - 1
                safe = np.maximum(at, 0)
                found = (at >= 0) & (inst[mine][safe] == ev_inst)
                column = np.where(found, value[mine][safe], column)
                column_q = np.where(found, quality[mine][safe], column_q)
            # Without a sample in the batch the held value must be from before the event:
            # a late sample never meets another input's future value.
            held_ts = held.ts[held_sig]
            before = (held_ts != NEVER) & (held_ts <= ev_ts)
            late |= ~found & (held_ts > ev_ts)
            valid &= found | before
            values[name] = column
            ev_quality |= column_q
        for c, name in enumerate(group.constant_names):
            values[name] = group.constants[ev_inst, c]
        self.late_skipped += int(late.sum())
        result = np.asarray(group.evaluate(values), dtype=np.float64)
        if result.ndim == 0:
            result = np.full(n, float(result))
        result = result * group.scale[ev_inst] + group.shift[ev_inst]
        finite = np.isfinite(result)
        keep = valid & finite
        self.non_finite += int((valid & ~finite).sum())
        if not keep.any():
            return None
        ev_quality = ev_quality | (_SUBSTITUTED * (ev_quality != 0).astype(np.uint8))
        return SampleBatch(
            signal=group.outputs[ev_inst[keep]],
            ts=ev_ts[keep],
            value=result[keep],
            quality=ev_quality[keep],
        )


def _levels(catalog: SignalCatalog) -> dict[str, int]:
    """0 for derived signals reading only measured ones, else 1 + the deepest input."""
    signals = catalog.plant.signals
    levels: dict[str, int] = {}

    def level(key: str) -> int:
        if key not in levels:
            derived = signals[key].derived
            assert derived is not None
            deps = [k for k in derived.inputs.values() if signals[k].derived is not None]
            levels[key] = 1 + max((level(d) for d in deps), default=-1)
        return levels[key]

    for key, sig in signals.items():
        if sig.derived is not None:
            level(key)
    return levels


def _place(
    groups: list[_Group], level: int, output: int, derived: DerivedDef, catalog: SignalCatalog
) -> None:
    names = tuple(derived.inputs)
    constant_names = tuple(derived.constants)
    inputs = [catalog.id(derived.inputs[n]) for n in names]
    for group in groups:
        same = (
            group.level == level
            and group.names == names
            and group.constant_names == constant_names
            and group.text == derived.expression.text
            and not group.used.intersection(inputs)
        )
        if same:
            break
    else:
        group = _Group(
            level=level,
            text=derived.expression.text,
            names=names,
            constant_names=constant_names,
            evaluate=derived.evaluate,
        )
        groups.append(group)
    group.inputs.append(inputs)
    group.outputs.append(output)
    group.constants.append([derived.constants[c] for c in constant_names])
    group.scale.append(derived.scale)
    group.shift.append(derived.shift)
    group.used.update(inputs)


def _compile(group: _Group, size: int) -> _Compiled:
    owner = np.full(size, -1, np.int32)
    position = np.full(size, -1, np.int32)
    for i, inputs in enumerate(group.inputs):
        for p, sid in enumerate(inputs):
            owner[sid] = i
            position[sid] = p
    instances = len(group.outputs)
    return _Compiled(
        names=group.names,
        constant_names=group.constant_names,
        evaluate=group.evaluate,
        inputs=np.array(group.inputs, np.int32).reshape(instances, len(group.names)),
        outputs=np.array(group.outputs, np.int32),
        constants=np.array(group.constants, np.float64).reshape(
            instances, len(group.constant_names)
        ),
        scale=np.array(group.scale, np.float64),
        shift=np.array(group.shift, np.float64),
        owner=owner,
        position=position,
    )

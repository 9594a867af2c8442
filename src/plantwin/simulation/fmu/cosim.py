"""FMUs stepped with the live stream: twin signals in, derived signals out.

Each FMU starts once every signal it reads (inputs and ``initial`` start values) has a value,
at the time the last of them arrived. Then, on each batch, it advances in fixed
communication steps up to the newest sample of the signals it reads: over each step the
inputs hold the value they had at its start (sample and hold, what a co-simulation master
passes), and the outputs at its end become samples of the output signals. Samples after the
newest communication point wait for the step that covers them. A residual is computed at
each sample of the measured signal: the measurement minus the model at that time
(interpolated linearly between communication points, exact on them). Outputs take the
quality flags of the inputs they came from (with ``SUBSTITUTED``), like derived signals.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from plantwin.core.errors import SimulationError
from plantwin.core.samples import Quality, SampleBatch
from plantwin.model.catalog import SignalCatalog
from plantwin.model.fmu_defs import FmuDef
from plantwin.simulation.fmu.slave import FmuSlave
from plantwin.twin.latest import NEVER, LatestValues

log = logging.getLogger(__name__)

# A gap in the data longer than this many steps starts the model again at the new data
# instead of stepping through it on held inputs (hours of 0.1 s steps would stall the stream).
MAX_CATCH_UP_STEPS = 100_000
_SUBSTITUTED = np.uint8(Quality.SUBSTITUTED)
SlaveFactory = Callable[[FmuDef, str], FmuSlave]


@dataclass(frozen=True, slots=True)
class _Grid:
    """Output signal values (times x outputs) at communication points, with their flags."""

    ts: NDArray[np.int64]
    values: NDArray[np.float64]
    quality: NDArray[np.uint8]

    def tail(self) -> _Grid:
        return _Grid(ts=self.ts[-1:], values=self.values[-1:], quality=self.quality[-1:])


class FmuCoSimulation:
    """One FMU bound to a twin's signals; :meth:`advance` takes each canonical batch."""

    def __init__(
        self, fmu: FmuDef, catalog: SignalCatalog, slave_factory: SlaveFactory = FmuSlave
    ) -> None:
        self.fmu = fmu
        self._factory = slave_factory
        ids = catalog.id
        self._in = np.array([ids(p.signal) for p in fmu.inputs], np.int64)
        self._in_a = np.array([p.a for p in fmu.inputs])
        self._in_b = np.array([p.b for p in fmu.inputs])
        self._in_refs = [p.value_reference for p in fmu.inputs]
        self._init = np.array([ids(p.signal) for p in fmu.initial], np.int64)
        self._out = np.array([ids(p.signal) for p in fmu.outputs], np.int32)
        self._out_a = np.array([p.a for p in fmu.outputs])
        self._out_b = np.array([p.b for p in fmu.outputs])
        self._out_refs = [p.value_reference for p in fmu.outputs]
        position = {p.signal: i for i, p in enumerate(fmu.outputs)}
        self._res = np.array([ids(r.signal) for r in fmu.residuals], np.int32)
        self._res_measured = np.array([ids(r.measured) for r in fmu.residuals], np.int64)
        self._res_model = np.array([position[r.model] for r in fmu.residuals], np.int64)
        self._res_ab = np.array([[r.a, r.b, r.scale] for r in fmu.residuals]).reshape(-1, 3)
        needed = np.concatenate([self._in, self._init])
        self._needed = np.unique(needed)
        self._reads = np.zeros(catalog.size, np.bool_)
        self._reads[np.concatenate([needed, self._res_measured])] = True
        self.held = LatestValues(catalog.size)  # its signals' values at the communication point
        self._pending = SampleBatch.empty()  # samples after the communication point
        self._slave: FmuSlave | None = None
        self._last: _Grid | None = None  # outputs at the current communication point
        self._t0 = 0  # ns: model time 0
        self._t = 0  # ns: current communication point
        self.steps = 0
        self.restarts = 0
        self.error: str | None = None  # set when the FMU failed; it is then left alone

    def advance(self, batch: SampleBatch) -> SampleBatch:
        """Samples of the output and residual signals up to the newest sample read (not in
        canonical order)."""
        if self.error is not None or not len(batch):
            return SampleBatch.empty()
        mine = self._reads[batch.signal]
        if not mine.any():
            return SampleBatch.empty()
        seen = batch.take(np.flatnonzero(mine))  # still canonical: rows keep their order
        if len(self._pending):
            seen = SampleBatch.concat([self._pending, seen]).canonical()
        try:
            return self._advance(seen)
        except SimulationError as err:
            self.error = str(err)
            log.error("%s; its signals stop until a restart", err)
            self.close()
            return SampleBatch.empty()
        finally:
            # Held values are those at the communication point; later samples wait for the
            # steps they belong to (less than one step of data).
            later = seen.ts > self._t if self._slave is not None else None
            if later is None or not later.any():
                self.held.update(seen)
                self._pending = SampleBatch.empty()
            else:
                self.held.update(seen.take(np.flatnonzero(~later)))
                self._pending = seen.take(np.flatnonzero(later))

    def close(self) -> None:
        if self._slave is not None:
            self._slave.close()
            self._slave = None

    def _advance(self, seen: SampleBatch) -> SampleBatch:
        newest = int(seen.ts.max())
        grids: list[_Grid] = []
        not_before = None
        if self._slave is not None and newest - self._t > MAX_CATCH_UP_STEPS * self.fmu.step_ns:
            log.warning(
                "FMU %s: data gap of %.0f s, starting the model again",
                self.fmu.name,
                (newest - self._t) / 1e9,
            )
            self.close()
            self.restarts += 1
            not_before = newest
        if self._slave is None:
            start = self._start_time(seen, not_before)
            if start is None:
                return SampleBatch.empty()
            self._last = None
            grids.append(self._start(seen, start))
        steps = (newest - self._t) // self.fmu.step_ns
        if steps > 0:
            grids.append(self._steps(seen, int(steps)))
        if not grids:
            return SampleBatch.empty()
        grid = _Grid(
            ts=np.concatenate([g.ts for g in grids]),
            values=np.vstack([g.values for g in grids]),
            quality=np.concatenate([g.quality for g in grids]),
        )
        before, self._last = self._last, grid.tail()
        parts = [self._outputs(grid)]
        if self._res.size:
            parts.append(self._residuals(seen, before, grid))
        return SampleBatch.concat(parts)  # not canonical: the co-simulator sorts once

    def _start_time(self, seen: SampleBatch, not_before: int | None) -> int | None:
        """When every signal needed to start has a value: the latest of their first times."""
        first = self.held.ts[self._needed].copy()
        for i, sid in enumerate(self._needed):
            if first[i] == NEVER:
                rows = seen.ts[seen.signal == sid]
                if not rows.size:
                    return None
                first[i] = rows.min()
        start = int(first.max()) if first.size else int(seen.ts.min())
        return start if not_before is None else max(start, not_before)

    def _start(self, seen: SampleBatch, start: int) -> _Grid:
        slave = self._factory(self.fmu, f"{self.fmu.twin}:{self.fmu.name}")
        self._slave = slave
        at = np.array([start], np.int64)
        start_values = [(p.value_reference, p.value) for p in self.fmu.parameters]
        if len(self._init):
            values, _ = self._held_at(seen, self._init, at)
            start_values += [
                (p.value_reference, p.a * float(v) + p.b)
                for p, v in zip(self.fmu.initial, values[:, 0], strict=True)
            ]
        slave.start(start_values)
        self._t0 = self._t = start
        _, quality = self._held_at(seen, self._in, at)
        outputs = np.array([slave.get(self._out_refs)], np.float64)
        return self._grid(at, outputs, quality)

    def _steps(self, seen: SampleBatch, steps: int) -> _Grid:
        slave = self._slave
        assert slave is not None
        h_ns = self.fmu.step_ns
        begins = self._t + h_ns * np.arange(steps, dtype=np.int64)
        values, quality = self._held_at(seen, self._in, begins)
        inputs = values * self._in_a[:, None] + self._in_b[:, None]  # FMU units
        times = ((begins - self._t0) / 1e9).tolist()
        outputs = slave.run(self._in_refs, self._out_refs, inputs.T, times, h_ns / 1e9)
        self._t = int(begins[-1]) + h_ns
        self.steps += steps
        return self._grid(begins + h_ns, outputs, quality)

    def _grid(
        self, ts: NDArray[np.int64], outputs: NDArray[np.float64], quality: NDArray[np.uint8]
    ) -> _Grid:
        """Outputs at communication points in signal units, flagged by the inputs they used."""
        if quality.any():
            flags = np.bitwise_or.reduce(quality, axis=0)
            flags = flags | (_SUBSTITUTED * (flags != 0).astype(np.uint8))
        else:
            flags = np.zeros(ts.size, np.uint8)
        return _Grid(ts=ts, values=outputs * self._out_a + self._out_b, quality=flags)

    def _outputs(self, grid: _Grid) -> SampleBatch:
        n, outs = grid.ts.size, self._out.size
        return SampleBatch(
            signal=np.repeat(self._out, n),
            ts=np.tile(grid.ts, outs),
            value=grid.values.T.ravel(),
            quality=np.tile(grid.quality, outs),
        )

    def _residuals(self, seen: SampleBatch, before: _Grid | None, grid: _Grid) -> SampleBatch:
        """Measured minus model at each measured sample the new steps cover.

        The model between communication points is interpolated linearly (exact at them);
        samples of the measured signal are compared at their own times, never held.
        """
        if before is not None:
            grid = _Grid(
                ts=np.concatenate([before.ts, grid.ts]),
                values=np.vstack([before.values, grid.values]),
                quality=np.concatenate([before.quality, grid.quality]),
            )
        low = grid.ts[0] - (1 if before is None else 0)
        x = (grid.ts - grid.ts[0]).astype(np.float64)
        parts: list[SampleBatch] = []
        for r, sid in enumerate(self._res):
            measured = self._res_measured[r]
            first = int(np.searchsorted(seen.signal, measured, side="left"))
            end = int(np.searchsorted(seen.signal, measured, side="right"))
            span = seen.ts[first:end]  # in time order (canonical batch)
            lo, hi = np.searchsorted(span, [low, grid.ts[-1]], side="right")
            rows = np.arange(first + lo, first + hi)
            if not rows.size:
                continue
            ts = seen.ts[rows]
            model = np.interp(
                (ts - grid.ts[0]).astype(np.float64), x, grid.values[:, self._res_model[r]]
            )
            a, b, scale = self._res_ab[r]
            value = scale * ((a * seen.value[rows] + b) - model)
            step = np.minimum(np.searchsorted(grid.ts, ts, side="left"), grid.ts.size - 1)
            quality = seen.quality[rows] | grid.quality[step]
            quality = quality | (_SUBSTITUTED * (quality != 0).astype(np.uint8))
            parts.append(
                SampleBatch(
                    signal=np.full(rows.size, sid, np.int32), ts=ts, value=value, quality=quality
                )
            )
        return SampleBatch.concat(parts)

    def _held_at(
        self, seen: SampleBatch, sids: NDArray[np.int64], at: NDArray[np.int64]
    ) -> tuple[NDArray[np.float64], NDArray[np.uint8]]:
        """Values (signals x times) held at each time: the batch's latest sample at or before
        it, else the value held before the batch (NaN if none)."""
        values = np.empty((sids.size, at.size))
        quality = np.empty((sids.size, at.size), np.uint8)
        # The batch is canonical: each signal's rows are one run, in time order.
        firsts = np.searchsorted(seen.signal, sids, side="left").tolist()
        ends = np.searchsorted(seen.signal, sids, side="right").tolist()
        held = self.held
        for i, sid in enumerate(sids.tolist()):
            first, end = firsts[i], ends[i]
            held_v = held.value[sid] if held.ts[sid] != NEVER else np.nan
            if end > first and at.size == 1:  # one step per batch, the common case: scalars
                k = first + int(np.searchsorted(seen.ts[first:end], at[0], side="right")) - 1
                values[i] = seen.value[k] if k >= first else held_v
                quality[i] = seen.quality[k] if k >= first else held.quality[sid]
            elif end > first:
                idx = np.searchsorted(seen.ts[first:end], at, side="right") - 1
                rows = first + np.maximum(idx, 0)
                values[i] = np.where(idx >= 0, seen.value[rows], held_v)
                quality[i] = np.where(idx >= 0, seen.quality[rows], held.quality[sid])
            else:
                values[i] = held_v
                quality[i] = held.quality[sid]
        return values, quality


class CoSimulator:
    """Every FMU of a plant; :meth:`advance` gives their derived samples for one batch."""

    def __init__(self, fmus: Sequence[FmuCoSimulation]) -> None:
        self.fmus = list(fmus)

    @classmethod
    def for_plant(cls, catalog: SignalCatalog) -> CoSimulator:
        return cls([FmuCoSimulation(f, catalog) for f in catalog.plant.fmus.values()])

    def advance(self, batch: SampleBatch) -> SampleBatch:
        parts = [fmu.advance(batch) for fmu in self.fmus]
        return SampleBatch.concat([p for p in parts if len(p)]).canonical()

    def close(self) -> None:
        for fmu in self.fmus:
            fmu.close()

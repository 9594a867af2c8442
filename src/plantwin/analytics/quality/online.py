"""Prediction signals of the live twin: a registered model over the latest input values.

For each prediction signal of the plant file (``predict:`` on a signal) a
:class:`Predictor` holds the last value of each input signal and, at every multiple of
``every``, asks its model for a probability from the values held then; the output sample
(percent) joins the twin like a derived one, so rules see it. Values are held, not
averaged: the tool signals it reads change slowly and arrive every 10 s.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from plantwin.analytics.history import FloatArray
from plantwin.core.records import Event
from plantwin.core.samples import SampleBatch
from plantwin.model.catalog import SignalCatalog


@runtime_checkable
class ProbabilityModel(Protocol):
    """A fitted classifier: the probability of the positive class for rows of features."""

    def probability(self, x: FloatArray) -> FloatArray: ...


@dataclass(slots=True)
class Predictor:
    key: str
    target: int  # signal id of the prediction signal
    inputs: npt.NDArray[np.int32]  # feature signal ids, column order
    every_ns: int
    model: ProbabilityModel
    held: FloatArray = field(init=False)
    next_k: int | None = None  # the next output is at next_k * every_ns

    def __post_init__(self) -> None:
        self.held = np.full(len(self.inputs), np.nan)

    def step(self, seen: SampleBatch) -> SampleBatch:
        """Outputs at the period boundaries up to the newest sample of ``seen``."""
        mine = seen.take(np.isin(seen.signal, self.inputs))
        if not len(mine):
            return SampleBatch.empty()
        order = np.argsort(mine.ts, kind="stable")
        ts, sig, val = mine.ts[order], mine.signal[order], mine.value[order]
        first_k = int(ts[0]) // self.every_ns + 1 if self.next_k is None else self.next_k
        last_k = int(ts[-1]) // self.every_ns
        grid = np.arange(first_k, last_k + 1, dtype=np.int64) * self.every_ns
        rows = np.tile(self.held, (len(grid), 1))
        for col, sid in enumerate(self.inputs):
            at = sig == sid
            if not at.any():
                continue
            t, v = ts[at], val[at]
            k = np.searchsorted(t, grid, side="right") - 1
            rows[k >= 0, col] = v[k[k >= 0]]
            self.held[col] = v[-1]
        self.next_k = last_k + 1
        ready = ~np.isnan(rows).any(axis=1)
        if not ready.any():
            return SampleBatch.empty()
        p = np.clip(self.model.probability(rows[ready]), 0.0, 1.0)
        return SampleBatch.of(np.full(int(ready.sum()), self.target), grid[ready], 100.0 * p)


class Predictions:
    """The plant's prediction signals that have a model; a stage of the twin (HealthStage)."""

    def __init__(self, catalog: SignalCatalog, models: Mapping[str, ProbabilityModel]) -> None:
        self.predictors: list[Predictor] = []
        for key, sig in catalog.plant.signals.items():
            if sig.predict is None or key not in models:
                continue
            self.predictors.append(
                Predictor(
                    key=key,
                    target=catalog.ids[key],
                    inputs=np.array([catalog.ids[k] for k in sig.predict.signals], np.int32),
                    every_ns=sig.predict.every_ns,
                    model=models[key],
                )
            )

    def process(self, batch: SampleBatch, derived: SampleBatch) -> tuple[SampleBatch, list[Event]]:
        seen = SampleBatch.merge_disjoint(batch, derived) if len(derived) else batch
        out = [p.step(seen) for p in self.predictors]
        return SampleBatch.concat(out).canonical(), []

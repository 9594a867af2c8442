"""Prediction signals of the live twin: a registered model over the latest input values.

For each prediction signal of the plant file (``predict:`` on a signal) a
:class:`Predictor` holds the last value of each input signal and, at every multiple of
``every``, asks its model for a probability from the values held then; the output sample
(percent) joins the twin like a derived one, so rules see it. Values are held, not
averaged: the tool signals it reads change slowly and arrive every 10 s.

A predictor holds its inputs from the start, with or without a model: :meth:`Predictions.use`
hands over a registered model (or a newer version) at any time. The version behind each
output goes to the prediction's ``version`` signal at the same time stamp, and a ``note``
event names the model when a version first predicts.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from plantwin.analytics.history import FloatArray
from plantwin.analytics.registry import LoadedModel
from plantwin.core.errors import AnalyticsError
from plantwin.core.records import Event, EventKind
from plantwin.core.samples import SampleBatch
from plantwin.model.catalog import SignalCatalog
from plantwin.model.plant import PredictDef


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
    model: ProbabilityModel | None = None  # none registered yet: inputs are held, no output
    version: int = 0  # registry version of ``model``
    version_signal: int | None = None  # signal id of the model-version signal
    announced: bool = True  # a note named the model in use
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
        if self.model is None or not ready.any():
            return SampleBatch.empty()
        p = 100.0 * np.clip(self.model.probability(rows[ready]), 0.0, 1.0)
        ts, n = grid[ready], int(ready.sum())
        if self.version_signal is None:
            return SampleBatch.of(np.full(n, self.target), ts, p)
        return SampleBatch.of(
            np.concatenate([np.full(n, self.target), np.full(n, self.version_signal)]),
            np.concatenate([ts, ts]),
            np.concatenate([p, np.full(n, float(self.version))]),
        )


class Predictions:
    """The plant's prediction signals; a stage of the twin (HealthStage). Those whose model
    is in ``models`` (by signal key) predict at once; the others once :meth:`use` gives one."""

    def __init__(
        self, catalog: SignalCatalog, models: Mapping[str, LoadedModel] | None = None
    ) -> None:
        self.specs: dict[str, PredictDef] = {}
        self.twins: dict[str, str] = {}
        self.predictors: list[Predictor] = []
        for key, sig in catalog.plant.signals.items():
            if sig.predict is None:
                continue
            self.specs[key], self.twins[key] = sig.predict, sig.twin
            version = sig.predict.version
            self.predictors.append(
                Predictor(
                    key=key,
                    target=catalog.ids[key],
                    inputs=np.array([catalog.ids[k] for k in sig.predict.signals], np.int32),
                    every_ns=sig.predict.every_ns,
                    version_signal=None if version is None else catalog.ids[version],
                )
            )
        for key, loaded in (models or {}).items():
            self._set(next(p for p in self.predictors if p.key == key), loaded)

    def versions(self) -> dict[str, int]:
        """Each model name the prediction signals name, with the newest version in use (a
        signal that could not use it keeps its own, and is not offered it again)."""
        out: dict[str, int] = {}
        for p in self.predictors:
            name = self.specs[p.key].model
            out[name] = max(out.get(name, p.version), p.version)
        return out

    def use(self, loaded: LoadedModel) -> None:
        """Predict with ``loaded`` from now on where its name and features fit; AnalyticsError
        if no prediction signal can (other features, not a probability model)."""
        problems = []
        taken = 0
        for p in self.predictors:
            spec = self.specs[p.key]
            if spec.model != loaded.info.name:
                continue
            features = tuple(loaded.info.features)
            if features != spec.signals or not isinstance(loaded.model, ProbabilityModel):
                problems.append(
                    f"{p.key} lists features {', '.join(spec.signals)}; the model takes "
                    f"{', '.join(features)} ({loaded.info.kind})"
                )
                continue
            self._set(p, loaded)
            taken += 1
        if not taken:
            raise AnalyticsError("; ".join(problems) or f"no signal uses {loaded.info.name!r}")

    @staticmethod
    def _set(p: Predictor, loaded: LoadedModel) -> None:
        model = loaded.model
        if not isinstance(model, ProbabilityModel):
            msg = f"model {loaded.info.ref} gives no probability"
            raise AnalyticsError(msg)
        if p.version != loaded.info.version:
            p.model, p.version, p.announced = model, loaded.info.version, False

    def process(self, batch: SampleBatch, derived: SampleBatch) -> tuple[SampleBatch, list[Event]]:
        seen = SampleBatch.merge_disjoint(batch, derived) if len(derived) else batch
        out: list[SampleBatch] = []
        events: list[Event] = []
        for p in self.predictors:
            made = p.step(seen)
            out.append(made)
            if len(made) and not p.announced:
                p.announced = True
                name = self.specs[p.key].model
                events.append(
                    Event(
                        ts=int(made.ts.min()), twin=self.twins[p.key], kind=EventKind.NOTE,
                        message=f"{p.key}: predicted by model {name}@{p.version}",
                        data={"model": name, "version": p.version},
                    )
                )  # fmt: skip
        return SampleBatch.concat(out).canonical(), events

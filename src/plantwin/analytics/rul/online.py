"""RUL signals of the live twin: a registered model predicts each asset's remaining useful
life and its interval from the samples streaming through the twin stage.

For each RUL signal of the plant file (``rul:`` on a signal, docs/plant-file.md) a
:class:`~plantwin.analytics.rul.condition.ConditionTracker` follows the condition indicator
while the asset runs. Every ``every`` of sample time (not every sample: a prediction is a
feature row and three small boosters) the newest features give the RUL signal, its ``low``
and ``high`` bounds (hours) and ``version``, the registry version that made them, all at the
same time stamp: "which model produced the RUL at time t" is the version signal at t.
When the indicator reaches the failure level the signals drop to 0 until the new part runs.

Trackers follow every RUL signal of the plant file whether or not its model is registered
yet: :meth:`OnlineRul.use` hands over a model (or a newer version) at any time, and the
next prediction comes from it, warmed windows and all.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np

from plantwin.analytics.registry import LoadedModel
from plantwin.analytics.rul.condition import ConditionTracker
from plantwin.analytics.rul.condition_model import ConditionRulModel
from plantwin.core.errors import AnalyticsError
from plantwin.core.records import Event, EventKind
from plantwin.core.samples import SampleBatch
from plantwin.model.catalog import SignalCatalog
from plantwin.model.plant import RulDef

log = logging.getLogger(__name__)


@dataclass(slots=True)
class _Asset:
    key: str
    twin: str
    rul: RulDef
    signal: int
    running: int
    outputs: tuple[int | None, int | None, int | None]  # low, high, version ids
    tracker: ConditionTracker
    next_at: int = 0
    announced: bool = False
    failed_at: int | None = None


FEED_NS = 60_000_000_000  # samples wait this long (sample time) before the trackers take them


@dataclass(slots=True)
class OnlineRul:
    """The plant's RUL signals; those whose model is in ``models`` (by name) predict.

    Per batch only the indicator and running samples are picked out (one lookup); the
    trackers take them once a minute of sample time, so the cost per batch stays a few
    microseconds, and a failure is noticed within that minute.
    """

    catalog: SignalCatalog
    models: dict[str, LoadedModel] = field(default_factory=dict)
    assets: list[_Asset] = field(default_factory=list)
    _wanted: np.ndarray = field(default_factory=lambda: np.zeros(0, np.bool_))
    _pending: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = field(default_factory=list)
    _next_feed: int = 0

    def __post_init__(self) -> None:
        for loaded in list(self.models.values()):
            self.use(loaded)
        for key, sig in self.catalog.plant.signals.items():
            spec = sig.rul
            if spec is None:
                continue
            rate = self.catalog.plant.signals[spec.signal].rate_hz or 1.0
            ids = self.catalog.ids
            self.assets.append(
                _Asset(
                    key=key,
                    twin=sig.twin,
                    rul=spec,
                    signal=ids[spec.signal],
                    running=ids[spec.running],
                    outputs=tuple(
                        None if k is None else ids[k] for k in (spec.low, spec.high, spec.version)
                    ),  # type: ignore[arg-type]
                    tracker=ConditionTracker(failure=spec.failure, dt_s=1.0 / rate),
                )
            )
        self._wanted = np.zeros(max(self.catalog.ids.values(), default=-1) + 1, np.bool_)
        for asset in self.assets:
            self._wanted[[asset.signal, asset.running]] = True

    def versions(self) -> dict[str, int]:
        """Each model name the RUL signals name, with the version in use (0: none yet)."""
        return {
            a.rul.model: self.models[a.rul.model].info.version if a.rul.model in self.models else 0
            for a in self.assets
        }

    def use(self, loaded: LoadedModel) -> None:
        """Predict with ``loaded`` from now on (a first model or a newer version); its
        signals' next predictions name it. AnalyticsError if it is not a condition RUL model."""
        if not isinstance(loaded.model, ConditionRulModel):
            msg = f"model {loaded.info.ref} is not a condition RUL model ({loaded.info.kind})"
            raise AnalyticsError(msg)
        self.models[loaded.info.name] = loaded
        for asset in self.assets:
            if asset.rul.model == loaded.info.name:
                asset.announced = False

    def warm(self, batch: SampleBatch) -> None:
        """Take history (oldest first) into the trackers without predicting."""
        for asset in self.assets:
            self._feed(asset, batch)
            if len(batch):
                asset.tracker.trim(int(batch.ts.max()))

    def process(self, batch: SampleBatch, derived: SampleBatch) -> tuple[SampleBatch, list[Event]]:
        """RUL samples (canonical) and events (model in use, failure level reached)."""
        del derived  # the indicator and running signals are measured ones
        if not self.assets or not len(batch):
            return SampleBatch.empty(), []
        picked = np.flatnonzero(self._wanted[batch.signal])
        if picked.shape[0]:
            self._pending.append((batch.signal[picked], batch.ts[picked], batch.value[picked]))
        newest_seen = int(batch.ts.max())
        if newest_seen < self._next_feed:
            return SampleBatch.empty(), []
        self._next_feed = newest_seen - newest_seen % FEED_NS + FEED_NS
        batch = SampleBatch.of(
            np.concatenate([p[0] for p in self._pending] or [np.empty(0, np.int32)]),
            np.concatenate([p[1] for p in self._pending] or [np.empty(0, np.int64)]),
            np.concatenate([p[2] for p in self._pending] or [np.empty(0)]),
        )
        self._pending = []
        out: list[SampleBatch] = []
        events: list[Event] = []
        for asset in self.assets:
            found = self._feed(asset, batch)
            for ts in found:
                loaded = self.models.get(asset.rul.model)
                if loaded is not None:
                    out.append(self._samples(asset, ts, (0.0, 0.0, 0.0, loaded.info.version)))
                events.append(
                    Event(
                        ts=ts, twin=asset.twin, kind=EventKind.NOTE,
                        message=f"{asset.key}: failure level {asset.rul.failure:g} reached",
                        data={"signal": asset.key},
                    )
                )  # fmt: skip
            newest = self._newest(asset, batch)
            if newest is None or newest < asset.next_at or not asset.tracker.in_run:
                continue
            asset.next_at = newest - newest % asset.rul.every_ns + asset.rul.every_ns
            asset.tracker.trim(newest)
            loaded = self.models.get(asset.rul.model)
            if loaded is None:
                continue  # not registered yet: the tracker keeps following the indicator
            model = loaded.model
            assert isinstance(model, ConditionRulModel)
            point, low, high = model.predict(asset.tracker.features(newest)[None, :])
            out.append(
                self._samples(asset, newest, (point[0], low[0], high[0], loaded.info.version))
            )
            if not asset.announced:
                asset.announced = True
                events.append(
                    Event(
                        ts=newest, twin=asset.twin, kind=EventKind.NOTE,
                        message=f"{asset.key}: predicted by model {loaded.info.ref}",
                        data={"model": loaded.info.name, "version": loaded.info.version},
                    )
                )  # fmt: skip
        return (SampleBatch.concat(out).canonical() if out else SampleBatch.empty()), events

    def _feed(self, asset: _Asset, batch: SampleBatch) -> list[int]:
        value = batch.take(batch.signal == asset.signal)
        running = batch.take(batch.signal == asset.running)
        if not len(value) and not len(running):
            return []
        v, r = np.argsort(value.ts, kind="stable"), np.argsort(running.ts, kind="stable")
        return asset.tracker.add(value.ts[v], value.value[v], running.ts[r], running.value[r])

    @staticmethod
    def _newest(asset: _Asset, batch: SampleBatch) -> int | None:
        mine = batch.ts[batch.signal == asset.signal]
        return int(mine.max()) if mine.shape[0] else None

    def _samples(
        self, asset: _Asset, ts: int, values: tuple[float, float, float, int]
    ) -> SampleBatch:
        """RUL, low, high and the version that made them, at one time stamp."""
        ids = [self.catalog.ids[asset.key], *asset.outputs]
        keep = [(i, v) for i, v in zip(ids, values, strict=True) if i is not None]
        return SampleBatch.of([i for i, _ in keep], [ts] * len(keep), [v for _, v in keep])

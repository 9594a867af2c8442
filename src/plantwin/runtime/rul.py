"""RUL signals in the live twin: registered models, trackers warmed from the store.

Built when the plant file declares RUL signals. A model is the newest registered version of
its name (``plantwin models list``), taken at start and again whenever a newer one is
registered (runtime/model_updates.py); a RUL signal whose model is not registered yet stays
empty (logged once) until one is. Trackers are warmed with the last ``WARM_DAYS`` of
history, so windows and run hours continue across a restart (run hours count from the last
failure in that history, or from its start).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from plantwin.core.errors import AnalyticsError
from plantwin.core.models import ModelInfo
from plantwin.core.samples import SampleBatch
from plantwin.core.store import HistoryQuery, Store
from plantwin.model.catalog import SignalCatalog
from plantwin.model.plant import Plant
from plantwin.runtime.model_updates import ModelWatcher

if TYPE_CHECKING:
    from plantwin.analytics.rul.online import OnlineRul

log = logging.getLogger(__name__)

WARM_DAYS = 3
NS_PER_DAY = 86_400_000_000_000


async def rul_stage(
    catalog: SignalCatalog, store: Store, newest: int, watcher: ModelWatcher | None = None
) -> OnlineRul | None:
    """The plant's RUL predictors, warmed, with the registered models there are (loaded by
    ``watcher``, which keeps them up to date); None if the plant declares no RUL signals."""
    if not any(s.rul is not None for s in catalog.plant.signals.values()):
        return None
    from plantwin.analytics.registry import ModelRegistry  # noqa: PLC0415
    from plantwin.analytics.rul.online import OnlineRul  # noqa: PLC0415 - LightGBM loads slowly

    stage = OnlineRul(catalog)
    watcher = watcher or ModelWatcher(ModelRegistry(store), [])
    watcher.users.append(stage)
    await watcher.check()
    if newest > 0:
        start = newest - WARM_DAYS * NS_PER_DAY
        for asset in stage.assets:
            parts = []
            for sid in (asset.signal, asset.running):
                h = await store.history(
                    HistoryQuery(signal=sid, start=start, end=newest + 1, limit=10_000_000)
                )
                parts.append(SampleBatch.of([sid] * len(h), h.ts, h.last, h.quality))
            stage.warm(SampleBatch.concat(parts))
    return stage


async def train_plant_rul(
    plant: Plant, store: Store, start: int, end: int, *, seed: int = 0
) -> list[ModelInfo]:
    """Train and register the next version of every RUL model the plant file names, from the
    store's history in [start, end) of the signals its RUL signals declare."""
    from plantwin.analytics.registry import ModelRegistry  # noqa: PLC0415 - LightGBM loads slowly
    from plantwin.analytics.rul.condition_training import (  # noqa: PLC0415
        RulInput,
        train_and_register,
    )

    ids = await store.register_signals(list(plant.signals))
    by_model: dict[str, list[RulInput]] = {}
    for key, sig in plant.signals.items():
        if sig.rul is None:
            continue
        rate = plant.signals[sig.rul.signal].rate_hz or 1.0
        by_model.setdefault(sig.rul.model, []).append(
            RulInput(
                asset=key,
                signal=ids[sig.rul.signal],
                running=ids[sig.rul.running],
                failure=sig.rul.failure,
                dt_s=1.0 / rate,
            )
        )
    if not by_model:
        msg = f"plant {plant.name!r} declares no RUL signals ('rul:' on a signal)"
        raise AnalyticsError(msg)
    registry = ModelRegistry(store)
    return [
        await train_and_register(registry, store, name, inputs, start, end, seed=seed)
        for name, inputs in sorted(by_model.items())
    ]

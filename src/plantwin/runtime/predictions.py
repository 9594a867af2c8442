"""Prediction signals in the live twin: registered models, newer versions taken as they come.

Built when the plant file declares prediction signals. Each takes the newest version of its
named model from the store's model registry, at start and whenever a newer one is registered
(runtime/model_updates.py); a signal whose model is not registered (or was trained on other
features) stays empty, with one warning naming the fix.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from plantwin.core.records import Event
from plantwin.core.samples import SampleBatch
from plantwin.core.store import ModelStore
from plantwin.model.catalog import SignalCatalog
from plantwin.runtime.model_updates import ModelWatcher
from plantwin.runtime.pipeline import HealthStage

if TYPE_CHECKING:
    from plantwin.analytics.quality.online import Predictions


async def prediction_stage(
    catalog: SignalCatalog, store: ModelStore, watcher: ModelWatcher | None = None
) -> Predictions | None:
    """The plant's prediction signals with the registered models there are (loaded by
    ``watcher``, which keeps them up to date); None if the plant declares none."""
    if not any(s.predict is not None for s in catalog.plant.signals.values()):
        return None
    from plantwin.analytics.quality.online import Predictions  # noqa: PLC0415 - slow imports
    from plantwin.analytics.registry import ModelRegistry  # noqa: PLC0415

    stage = Predictions(catalog)
    watcher = watcher or ModelWatcher(ModelRegistry(store), [])
    watcher.users.append(stage)
    await watcher.check()
    return stage


class Stages:
    """Several stages as one: each sees the batch and what the ones before it made."""

    def __init__(self, stages: Sequence[HealthStage]) -> None:
        self.stages = list(stages)

    def process(self, batch: SampleBatch, derived: SampleBatch) -> tuple[SampleBatch, list[Event]]:
        made: list[SampleBatch] = []
        events: list[Event] = []
        for stage in self.stages:
            seen = SampleBatch.concat([derived, *made]).canonical() if made else derived
            out, notes = stage.process(batch, seen)
            if len(out):  # most batches make nothing: no copies of the derived samples then
                made.append(out)
            events.extend(notes)
        return SampleBatch.concat(made).canonical(), events


def chain(*stages: HealthStage | None) -> HealthStage | None:
    """The stages that exist, as one; None if none does."""
    present = [s for s in stages if s is not None]
    if len(present) <= 1:
        return present[0] if present else None
    return Stages(present)

"""Prediction signals in the live twin: registered models, loaded once at start.

Built only when the plant file declares prediction signals. Each takes the newest version
of its named model from the store's model registry; a signal whose model is not registered
(or was trained on other features) stays empty, with one warning naming the fix.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from plantwin.core.errors import AnalyticsError
from plantwin.core.records import Event
from plantwin.core.samples import SampleBatch
from plantwin.core.store import ModelStore
from plantwin.model.catalog import SignalCatalog
from plantwin.runtime.pipeline import HealthStage

log = logging.getLogger(__name__)


async def prediction_stage(catalog: SignalCatalog, store: ModelStore) -> HealthStage | None:
    """The plant's prediction signals with their registered models; None if there are none."""
    declared = {k: s.predict for k, s in catalog.plant.signals.items() if s.predict is not None}
    if not declared:
        return None
    from plantwin.analytics.quality.online import (  # noqa: PLC0415 - slow imports
        Predictions,
        ProbabilityModel,
    )
    from plantwin.analytics.registry import ModelRegistry  # noqa: PLC0415

    registry = ModelRegistry(store)
    models: dict[str, ProbabilityModel] = {}
    for key, spec in declared.items():
        try:
            loaded = await registry.load(spec.model)
        except AnalyticsError as err:
            log.warning(
                "%s stays empty: %s (register one: plantwin eval scrap --register)", key, err
            )
            continue
        features = tuple(loaded.info.features)
        model = loaded.model
        if features != spec.signals or not isinstance(model, ProbabilityModel):
            log.warning(
                "%s stays empty: model %s takes features %s, the plant file lists %s",
                key, loaded.info.ref, ", ".join(features), ", ".join(spec.signals),
            )  # fmt: skip
            continue
        models[key] = model
        log.info("%s: model %s", key, loaded.info.ref)
    return Predictions(catalog, models) if models else None


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

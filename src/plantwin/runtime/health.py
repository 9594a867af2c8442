"""Health signals in the live twin: the monitors, warmed with the twin's own history.

Built only when the plant file declares health signals (scikit-learn and scipy load slowly).
The healthy period of each detector is the first ``fit`` of the history in the store: after
a restart the same rows give the same fitted detector, so nothing but the store is kept.
(With ``healthy_when`` only the rows meeting it count; if the first ``fit`` holds too few,
the healthy period goes on with the live data.)
"""

from __future__ import annotations

import logging

from plantwin.core.samples import SampleBatch
from plantwin.core.store import HistoryQuery, SampleStore
from plantwin.model.catalog import SignalCatalog
from plantwin.runtime.pipeline import HealthStage

log = logging.getLogger(__name__)

HISTORY_LIMIT = 1_000_000  # samples per input read for the healthy period


async def health_stage(
    catalog: SignalCatalog, store: SampleStore, newest: int
) -> HealthStage | None:
    """The plant's health monitors, their healthy periods filled from the store; None if
    the plant declares no health signals."""
    if not any(sig.health is not None for sig in catalog.plant.signals.values()):
        return None
    from plantwin.analytics.anomaly.online import HealthMonitors  # noqa: PLC0415

    monitors = HealthMonitors(catalog)
    if newest <= 0:
        return monitors
    for monitor in monitors.monitors:
        parts: list[SampleBatch] = []
        for sid in sorted(int(s) for s in monitor.inputs):
            history = await store.history(
                HistoryQuery(signal=sid, start=0, end=newest + 1, limit=HISTORY_LIMIT)
            )
            parts.append(
                SampleBatch.of([sid] * len(history), history.ts, history.last, history.quality)
            )
        batch = SampleBatch.concat(parts)
        if len(batch):
            first = int(batch.ts.min())
            # the healthy period and one scoring period more, so the fit completes
            batch = batch.take(batch.ts <= first + monitor.fit_ns + monitor.every_ns)
            monitors.warm_one(monitor, batch)
        log.info(
            "%s: %s from history",
            monitor.key,
            "fitted" if monitor.fitted else "healthy period not complete",
        )
    return monitors

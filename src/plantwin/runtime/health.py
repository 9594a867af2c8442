"""Health signals in the live twin: the monitors, warmed with the twin's own history.

Built only when the plant file declares health signals (scikit-learn and scipy load slowly).
The healthy period of each detector is the first ``fit`` of the history in the store: after
a restart the same rows give the same fitted detector, so nothing but the store is kept;
the last ``PRIME_ROWS`` scoring periods before the restart are then scored without output,
so a detector's state (a smoothed one's EWMA) goes on from them.
(With ``healthy_when`` only the rows meeting it count; if the first ``fit`` holds too few,
the healthy period goes on with the live data.)
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from plantwin.core.samples import SampleBatch
from plantwin.core.store import HistoryQuery, SampleStore
from plantwin.model.catalog import SignalCatalog
from plantwin.runtime.pipeline import HealthStage

if TYPE_CHECKING:
    from plantwin.analytics.anomaly.online import Monitor

log = logging.getLogger(__name__)

HISTORY_LIMIT = 1_000_000  # samples per input read for the healthy period
# Scoring periods of recent history run through a fitted detector after a restart: the
# start of a smoothed detector's EWMA then weighs 0.9^100, about 3e-5.
PRIME_ROWS = 100


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
        batch = await _history(store, monitor, 0, newest)
        if len(batch):
            first = int(batch.ts.min())
            # the healthy period and one scoring period more, so the fit completes
            fit_end = first + monitor.fit_ns + monitor.every_ns
            monitors.warm_one(monitor, batch.take(batch.ts <= fit_end))
            recent = max(fit_end, newest - PRIME_ROWS * monitor.every_ns)
            if monitor.fitted and recent < newest:  # else no history after the healthy period
                monitors.prime(monitor, await _history(store, monitor, recent + 1, newest))
        log.info(
            "%s: %s from history",
            monitor.key,
            "fitted" if monitor.fitted else "healthy period not complete",
        )
    return monitors


async def _history(store: SampleStore, monitor: Monitor, start: int, end: int) -> SampleBatch:
    """The monitor's input samples from ``start`` to ``end`` (inclusive), canonical."""
    parts: list[SampleBatch] = []
    for sid in sorted(int(s) for s in monitor.inputs):
        history = await store.history(
            HistoryQuery(signal=sid, start=start, end=end + 1, limit=HISTORY_LIMIT)
        )
        parts.append(
            SampleBatch.of([sid] * len(history), history.ts, history.last, history.quality)
        )
    return SampleBatch.concat(parts)

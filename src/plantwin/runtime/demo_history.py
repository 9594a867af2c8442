"""Seeded histories of the demo line for training and evaluating models offline.

The demo line runs as fast as it can and only the requested signals are kept, mapped from
their connector addresses with the plant file's bindings (scale, offset, units) as ingest
would; days of plant time take seconds. Seeds make every figure reproducible.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from plantwin.analytics.history import HistoryError, Series, SignalHistory
from plantwin.model.plant import Plant
from plantwin.simulation.demo_plant import DemoLine
from plantwin.simulation.demo_plant.truth import GroundTruth

NS_PER_S = 1_000_000_000
DAY_S = 86_400
START_NS = 1_767_225_600 * NS_PER_S  # 2026-01-01 00:00 UTC, a Thursday


@dataclass(frozen=True, slots=True, kw_only=True)
class DemoRun:
    history: SignalHistory
    truth: GroundTruth
    seed: int


def demo_history(
    plant: Plant,
    keys: Iterable[str],
    *,
    seed: int,
    days: float,
    start_ns: int = START_NS,
    source: str = "demo",
) -> DemoRun:
    """Simulate ``days`` of the demo line; the series of ``keys`` and the ground truth."""
    wanted = set(keys)
    maps = {
        b.address: (b.signal, b.a, b.b)
        for b in plant.bindings
        if b.connector == source and b.signal in wanted
    }
    missing = wanted - {signal for signal, _, _ in maps.values()}
    if missing:
        msg = f"no binding on connector {source!r} for: {', '.join(sorted(missing))}"
        raise HistoryError(msg)
    line = DemoLine(plant=plant, seed=seed, start_ns=start_ns, source=source)
    parts: dict[str, list[tuple[np.ndarray, np.ndarray]]] = {k: [] for k in wanted}
    for raw in line.run(days * DAY_S, chunk_s=6 * 3600):
        # one pass over the addresses: comparing strings column-wise per signal costs more
        rows: dict[str, list[int]] = {}
        for n, addr in enumerate(raw.address):
            if addr in maps:
                rows.setdefault(addr, []).append(n)
        for addr, at in rows.items():
            key, a, b = maps[addr]
            index = np.asarray(at, dtype=np.intp)
            parts[key].append((raw.ts[index], a * raw.value[index] + b))
    series = {
        key: Series(
            ts=np.concatenate([t for t, _ in chunks]) if chunks else np.empty(0, np.int64),
            value=np.concatenate([v for _, v in chunks]) if chunks else np.empty(0),
        )
        for key, chunks in parts.items()
    }
    history = SignalHistory(start_ns=start_ns, end_ns=line.now_ns, series=series)
    return DemoRun(history=history, truth=line.truth, seed=seed)

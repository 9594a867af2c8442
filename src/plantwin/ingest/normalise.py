"""Raw readings -> validated samples: map, convert units, flag quality, dedupe, dead-letter.

Everything here is vectorised over the batch; only the rejected rows (rare) are visited one
by one, to write their dead letters.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from plantwin.core.clock import Clock
from plantwin.core.records import DeadLetter
from plantwin.core.samples import Quality, RawBatch, SampleBatch
from plantwin.ingest.mapping import ConnectorBindings, build_bindings
from plantwin.model.catalog import SignalCatalog

EARLIEST_NS = 946_684_800 * 1_000_000_000  # 2000-01-01: older stamps are clock faults
# Flags a connector may set: the source's own uncertain/bad status, and stale (a Sparkplug B
# death repeats the last value flagged stale). Range flags are ingest's own business.
SOURCE_QUALITY = np.uint8(Quality.UNCERTAIN | Quality.BAD | Quality.STALE)
Mask = NDArray[np.bool_]


@dataclass(frozen=True, slots=True)
class IngestResult:
    batch: SampleBatch  # canonical: sorted by (signal, ts), unique pairs
    dead: list[DeadLetter]


@dataclass(slots=True)
class IngestStats:
    received: int = 0
    accepted: int = 0
    dead_letters: int = 0
    out_of_range: int = 0
    duplicates_in_batch: int = 0
    by_reason: dict[str, int] = field(default_factory=dict)


class Ingestor:
    """Turns RawBatch from any connector into canonical SampleBatch for the bus."""

    def __init__(
        self, catalog: SignalCatalog, clock: Clock, *, max_future_s: float = 86_400.0
    ) -> None:
        self.catalog = catalog
        self.clock = clock
        self.max_future_ns = int(max_future_s * 1e9)
        self.bindings: dict[str, ConnectorBindings] = build_bindings(catalog)
        self.stats = IngestStats()

    def process(self, raw: RawBatch) -> IngestResult:
        n = len(raw)
        self.stats.received += n
        if n == 0:
            return IngestResult(SampleBatch.empty(), [])
        table = self.bindings.get(raw.source)
        if table is None:
            reason = (
                "unknown_source",
                f"connector '{raw.source}' has no bindings in the plant file",
            )
            return IngestResult(SampleBatch.empty(), self._reject(raw, np.arange(n), [reason] * n))
        rows, value, rejected, unmapped, bad_value, now = self._check(raw, table)
        dead: list[DeadLetter] = []
        if rejected.any():
            where = np.flatnonzero(rejected)
            reasons = [
                self._reason(raw, int(i), bool(unmapped[i]), bool(bad_value[i]), now) for i in where
            ]
            dead = self._reject(raw, where, reasons)
            keep = ~rejected
            rows, ts, value, status = rows[keep], raw.ts[keep], value[keep], raw.status[keep]
        else:
            ts, status = raw.ts, raw.status
        signal = table.signal[rows]
        quality = status & SOURCE_QUALITY
        out_of_range = (value < self.catalog.low[signal]) | (value > self.catalog.high[signal])
        if out_of_range.any():
            quality = quality | (out_of_range.astype(np.uint8) * np.uint8(Quality.OUT_OF_RANGE))
            self.stats.out_of_range += int(out_of_range.sum())
        batch = SampleBatch(signal=signal, ts=ts, value=value, quality=quality).canonical()
        self.stats.duplicates_in_batch += len(signal) - len(batch)
        self.stats.accepted += len(batch)
        return IngestResult(batch, dead)

    def screen(self, raw: RawBatch) -> list[tuple[int, str]]:
        """(row, reason) for each row :meth:`process` would dead-letter; changes no figures.

        Lets a synchronous caller (the HTTP ingest endpoint) tell its client which records
        will not become samples before it hands the batch over.
        """
        table = self.bindings.get(raw.source)
        if table is None:
            reason = f"connector '{raw.source}' has no bindings in the plant file"
            return [(i, reason) for i in range(len(raw))]
        _, _, rejected, unmapped, bad_value, now = self._check(raw, table)
        return [
            (i, self._reason(raw, i, bool(unmapped[i]), bool(bad_value[i]), now)[1])
            for i in np.flatnonzero(rejected).tolist()
        ]

    def _check(
        self, raw: RawBatch, table: ConnectorBindings
    ) -> tuple[NDArray[np.int64], NDArray[np.float64], Mask, Mask, Mask, int]:
        """Binding rows, converted values, and the rejected / unmapped / non-finite masks."""
        rows = table.lookup(raw.address)
        unmapped = rows < 0
        mapped = np.maximum(rows, 0)  # unmapped rows borrow binding 0 and are dropped later
        with np.errstate(over="ignore", invalid="ignore"):
            value = table.a[mapped] * raw.value + table.b[mapped]
        bad_value = ~np.isfinite(value)  # NaN or inf from the source, or overflow in conversion
        now = self.clock.now_ns()
        bad_time = (raw.ts < EARLIEST_NS) | (raw.ts > now + self.max_future_ns)
        return rows, value, unmapped | bad_value | bad_time, unmapped, bad_value, now

    def _reason(
        self, raw: RawBatch, i: int, unmapped: bool, bad_value: bool, now: int
    ) -> tuple[str, str]:
        """(kind, message) for a rejected row; kinds are counted in the stats."""
        address = raw.address[i]
        if unmapped:
            return "unmapped", f"address '{address}' is not bound to a signal of '{raw.source}'"
        if bad_value:
            return (
                "not_a_number",
                f"value {raw.value[i]!r} at '{address}' is not a finite number"
                " in the signal's unit",
            )
        ts = int(raw.ts[i])
        if ts < EARLIEST_NS:
            return "bad_timestamp", f"timestamp {ts} ns at '{address}' is before 2000-01-01"
        ahead = (ts - now) / 1e9
        return "bad_timestamp", f"timestamp at '{address}' is {ahead:.0f} s in the future"

    def _reject(
        self, raw: RawBatch, where: NDArray[np.intp], reasons: list[tuple[str, str]]
    ) -> list[DeadLetter]:
        received = self.clock.now_ns()
        out: list[DeadLetter] = []
        for i, (kind, reason) in zip(where.tolist(), reasons, strict=True):
            payload = {
                "address": raw.address[i],
                "ts": int(raw.ts[i]),
                "value": float(raw.value[i]) if np.isfinite(raw.value[i]) else str(raw.value[i]),
                "status": int(raw.status[i]),
            }
            out.append(
                DeadLetter(
                    received=received,
                    source=raw.source,
                    reason=reason,
                    raw=json.dumps(payload).encode(),
                    location=raw.address[i],
                )
            )
            self.stats.by_reason[kind] = self.stats.by_reason.get(kind, 0) + 1
        self.stats.dead_letters += len(out)
        return out

"""Counters behind a connector's health report: status with its start, totals, recent rate."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Mapping

from plantwin.core.connector import ConnectorHealth, ConnectorStatus


class ConnectorMeter:
    """Keeps what :class:`ConnectorHealth` reports, so each connector does not re-invent it.

    The rate counts samples per whole second of the monotonic clock and averages over the
    last ``window_s`` seconds (the current one partly), or the time since the first sample
    if shorter. Counting is O(1) per batch, never per sample.
    """

    def __init__(
        self,
        *,
        window_s: int = 10,
        monotonic: Callable[[], float] = time.monotonic,
        wall_ns: Callable[[], int] = time.time_ns,
    ) -> None:
        if window_s < 1:
            msg = f"window_s must be at least 1 second, got {window_s}"
            raise ValueError(msg)
        self.window_s = window_s
        self._monotonic = monotonic
        self._wall_ns = wall_ns
        self.status = ConnectorStatus.STOPPED
        self.since: int | None = None
        self.samples = 0
        self.dropped = 0
        self.dead_letters = 0
        self.last_error: str | None = None
        self.last_error_at: int | None = None
        self._buckets: deque[list[int]] = deque()  # [whole second, samples in it]
        self._first: float | None = None

    def set_status(self, status: ConnectorStatus) -> None:
        """Enter ``status``; ``since`` moves only when the status really changes."""
        if status is not self.status or self.since is None:
            self.status = status
            self.since = self._wall_ns()

    def count(self, samples: int) -> None:
        if samples <= 0:
            return
        self.samples += samples
        now = self._monotonic()
        if self._first is None:
            self._first = now
        second = int(now)
        if self._buckets and self._buckets[-1][0] == second:
            self._buckets[-1][1] += samples
        else:
            self._buckets.append([second, samples])
        self._prune(now)

    def drop(self, samples: int = 1) -> None:
        self.dropped += samples

    def dead(self, letters: int = 1) -> None:
        self.dead_letters += letters

    def error(self, message: str) -> None:
        self.last_error = message
        self.last_error_at = self._wall_ns()

    def rate(self) -> float:
        """Samples per second over the recent window."""
        now = self._monotonic()
        self._prune(now)
        if self._first is None or not self._buckets:
            return 0.0
        start = max(self._first, float(self._oldest(now)))
        return sum(count for _, count in self._buckets) / max(now - start, 1.0)

    def _oldest(self, now: float) -> int:
        """First whole second inside the window."""
        return int(now) - self.window_s + 1

    def _prune(self, now: float) -> None:
        oldest = self._oldest(now)
        while self._buckets and self._buckets[0][0] < oldest:
            self._buckets.popleft()

    def health(
        self, name: str, kind: str, detail: Mapping[str, int | float | str] | None = None
    ) -> ConnectorHealth:
        return ConnectorHealth(
            name=name,
            kind=kind,
            status=self.status,
            since=self.since,
            samples=self.samples,
            samples_per_s=round(self.rate(), 3),
            dropped=self.dropped,
            dead_letters=self.dead_letters,
            last_error=self.last_error,
            last_error_at=self.last_error_at,
            detail=dict(detail or {}),
        )

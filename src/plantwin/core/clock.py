"""Injected time: wall clock for real plants, a scaled clock for the demo, manual for tests."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from typing import Protocol

NS_PER_S = 1_000_000_000


class Clock(Protocol):
    """Plant time in integer nanoseconds since the epoch, UTC."""

    def now_ns(self) -> int: ...

    async def sleep(self, seconds: float) -> None:
        """Wait for ``seconds`` of plant time."""
        ...


class WallClock:
    def now_ns(self) -> int:
        return time.time_ns()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


class ScaledClock:
    """Plant time runs ``speed`` times faster than the wall clock, starting at ``start_ns``."""

    def __init__(self, *, start_ns: int, speed: float) -> None:
        if speed <= 0:
            msg = f"clock speed must be positive, got {speed}"
            raise ValueError(msg)
        self.start_ns = start_ns
        self.speed = speed
        self._wall0 = time.monotonic_ns()

    def now_ns(self) -> int:
        return self.start_ns + int((time.monotonic_ns() - self._wall0) * self.speed)

    def rebase(self, start_ns: int) -> None:
        """Restart plant time at ``start_ns`` from now (e.g. at a restored snapshot's time)."""
        self.start_ns = start_ns
        self._wall0 = time.monotonic_ns()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds / self.speed)


class ManualClock:
    """A clock that moves only when told to; ``sleep`` advances it instantly."""

    def __init__(self, start_ns: int = 0) -> None:
        self._now = start_ns

    def now_ns(self) -> int:
        return self._now

    def advance(self, seconds: float) -> None:
        self._now += int(seconds * NS_PER_S)

    async def sleep(self, seconds: float) -> None:
        self.advance(seconds)
        await asyncio.sleep(0)


def to_datetime(ns: int) -> datetime:
    """UTC datetime of a nanosecond timestamp (microsecond precision)."""
    return datetime.fromtimestamp(ns / NS_PER_S, tz=UTC)


def from_datetime(value: datetime) -> int:
    """Nanoseconds of an aware datetime; a naive one is rejected rather than guessed."""
    if value.tzinfo is None:
        msg = f"timestamp {value.isoformat()} has no time zone; plantwin times are UTC"
        raise ValueError(msg)
    delta = value - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * NS_PER_S + delta.microseconds * 1000


def iso(ns: int) -> str:
    return to_datetime(ns).isoformat().replace("+00:00", "Z")

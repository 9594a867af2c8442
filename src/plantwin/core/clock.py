"""Injected time: wall clock for real plants, a scaled clock for the demo, manual for tests."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
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


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# int64 nanoseconds cover 1677-09-21 to 2262-04-11; plantwin times stay inside.
NS_MIN = -(2**63) + 1
NS_MAX = 2**63 - 1


def to_datetime(ns: int) -> datetime:
    """UTC datetime of a nanosecond timestamp, truncated to microseconds (exact arithmetic)."""
    return _EPOCH + timedelta(microseconds=ns // 1000)


def from_datetime(value: datetime) -> int:
    """Nanoseconds of an aware datetime; a naive one is rejected rather than guessed."""
    if value.tzinfo is None:
        msg = f"timestamp {value.isoformat()} has no time zone; plantwin times are UTC"
        raise ValueError(msg)
    delta = value - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * NS_PER_S + delta.microseconds * 1000


def parse_iso(text: str) -> int:
    """Nanoseconds of an ISO 8601 time with a zone ('Z' or an offset such as +09:00).

    Raises ValueError saying what is wrong: not a time, no zone, or out of range.
    """
    try:
        parsed = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError as err:
        msg = f"{text!r} is not an ISO 8601 time"
        raise ValueError(msg) from err
    if parsed.tzinfo is None:
        msg = f"{text!r} has no time zone; add Z or an offset such as +09:00"
        raise ValueError(msg)
    try:
        ns = from_datetime(parsed)
    except OverflowError as err:
        msg = f"{text!r} is out of range"
        raise ValueError(msg) from err
    return checked_ns(ns, text)


def checked_ns(ns: int, what: object) -> int:
    """``ns`` if it fits plantwin's int64 nanosecond times, else ValueError naming ``what``."""
    if not NS_MIN <= ns <= NS_MAX:
        msg = f"{what!r} is out of range (times must lie between 1677 and 2262)"
        raise ValueError(msg)
    return ns


def iso(ns: int) -> str:
    return to_datetime(ns).isoformat().replace("+00:00", "Z")

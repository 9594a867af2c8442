"""``DemoPlant``: the demo line behind the Connector protocol, paced by an injected clock."""

from __future__ import annotations

from collections.abc import AsyncIterator
from types import TracebackType
from typing import Self

from plantwin.core.clock import NS_PER_S, Clock, ScaledClock
from plantwin.core.connector import ConnectorHealth, ConnectorStatus
from plantwin.core.errors import ConnectorError
from plantwin.core.meter import ConnectorMeter
from plantwin.core.records import DeadLetter
from plantwin.core.samples import RawBatch
from plantwin.model.plant import Plant
from plantwin.simulation.demo_plant.line import DemoLine
from plantwin.simulation.demo_plant.settings import DemoSettings
from plantwin.simulation.demo_plant.truth import GroundTruth

WAKE_WALL_S = 0.5  # wall seconds between wake-ups with a scaled clock


class DemoPlant:
    """Connector that simulates the example machining line in-process.

    ``readings()`` wakes every ``poll_s`` plant seconds (by default half a wall second
    with a :class:`ScaledClock`, one plant second otherwise), advances the physics to
    ``clock.now_ns()`` and yields what happened, at most ``max_batch_s`` simulated seconds
    per batch. Commands written with :meth:`write` take effect from the next step.

    Supports: read (periodic and on-change), write (commands of the plant file),
    snapshot/restore. No network, no reconnects: it cannot lose its source.
    """

    kind = "demo"

    def __init__(
        self,
        *,
        plant: Plant,
        clock: Clock,
        seed: int = 7,
        settings: DemoSettings | None = None,
        start_ns: int,
        name: str = "demo",
        poll_s: float | None = None,
        max_batch_s: int = 600,
    ) -> None:
        if poll_s is not None and poll_s <= 0:
            msg = f"poll_s must be positive, got {poll_s}"
            raise ValueError(msg)
        if max_batch_s < 1:
            msg = f"max_batch_s must be at least 1, got {max_batch_s}"
            raise ValueError(msg)
        self.name = name
        self._clock = clock
        self._line = DemoLine(
            plant=plant, seed=seed, settings=settings, start_ns=start_ns, source=name
        )
        if poll_s is None:
            speed = clock.speed if isinstance(clock, ScaledClock) else 1.0
            poll_s = max(1.0, WAKE_WALL_S * speed)
        self._poll_s = poll_s
        self._max_batch_ns = max_batch_s * NS_PER_S
        self._meter = ConnectorMeter()  # status, counts and rate for the health report
        self._last_reading_ns = self._line.now_ns

    @property
    def line(self) -> DemoLine:
        return self._line

    @property
    def truth(self) -> GroundTruth:
        return self._line.truth

    @property
    def last_reading_ns(self) -> int:
        """Time of the newest reading ``readings()`` has handed out.

        Before the first one it is the line's start (or restored) time, as nothing newer
        exists. A snapshot taken now is safe to save once everything up to this time is
        stored: steps after it, if any, produced no readings.
        """
        return self._last_reading_ns

    async def __aenter__(self) -> Self:
        self._meter.set_status(ConnectorStatus.CONNECTED)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._meter.set_status(ConnectorStatus.STOPPED)

    def readings(self) -> AsyncIterator[RawBatch | DeadLetter]:
        if not self._is_open():
            msg = f"connector {self.name!r} is not open; use 'async with' first"
            raise ConnectorError(msg)
        return self._readings()

    async def _readings(self) -> AsyncIterator[RawBatch | DeadLetter]:
        line = self._line
        while self._is_open():
            target = self._clock.now_ns()
            while line.now_ns + NS_PER_S <= target:
                batch = line.advance_to(min(target, line.now_ns + self._max_batch_ns))
                if len(batch):
                    self._meter.count(len(batch))
                    self._last_reading_ns = int(batch.ts[-1])  # sorted by time
                    yield batch
                if not self._is_open():
                    return
            await self._clock.sleep(self._poll_s)

    def _is_open(self) -> bool:
        return self._meter.status is ConnectorStatus.CONNECTED

    def health(self) -> ConnectorHealth:
        return self._meter.health(self.name, self.kind)

    async def write(self, address: str, value: float) -> None:
        try:
            self._line.write(address, value)
        except ConnectorError as err:
            self._meter.error(str(err))
            raise

    def snapshot(self, *, include_truth: bool = True) -> bytes:
        """The simulator state for :meth:`restore`.

        ``include_truth=False`` leaves out the ground-truth records (parts, failures, tool
        changes, ...), which grow by ~50 kB per simulated day; the readings after a restore
        are the same either way, only ``truth`` starts empty (state tallies are kept).
        """
        return self._line.snapshot(include_truth=include_truth)

    def restore(self, data: bytes) -> None:
        try:
            self._line.restore(data)
        except ValueError as err:
            raise ConnectorError(str(err)) from err
        self._last_reading_ns = self._line.now_ns

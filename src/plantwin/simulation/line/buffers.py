"""A finite buffer between stations, and the time-averaged counters of a run.

The buffer is not a ``simpy.Store``: a part that can move at once moves without an event,
and an event is made only for a machine that must wait (starved or blocked). Most cycles
of a line then cost one timeout, which is most of the model's speed.
"""

from __future__ import annotations

import math
from collections import deque

import simpy

Part = float  # the time the part entered the line (its release), for lead times


class Level:
    """A count whose time integral is kept (WIP, a buffer's level)."""

    __slots__ = ("_env", "area", "last", "value")

    def __init__(self, env: simpy.Environment, value: int = 0) -> None:
        self._env = env
        self.value = value
        self.area = 0.0
        self.last = env.now

    def add(self, delta: int) -> None:
        now = self._env.now
        self.area += self.value * (now - self.last)
        self.last = now
        self.value += delta

    def integral(self, now: float) -> float:
        return self.area + self.value * (now - self.last)


class Buffer:
    """FIFO of parts with ``capacity`` places (None: unlimited); blocking after service.

    A machine that finds its downstream buffer full keeps the finished part and waits
    (blocked); when a place frees, the part moves in and the machine is woken. With
    capacity 0 parts pass only hand to hand.
    """

    __slots__ = ("_env", "_getters", "_items", "_putters", "capacity", "level")

    def __init__(self, env: simpy.Environment, capacity: int | None) -> None:
        self._env = env
        self.capacity = math.inf if capacity is None else capacity
        self._items: deque[Part] = deque()
        self._getters: deque[simpy.Event] = deque()
        self._putters: deque[tuple[simpy.Event, Part]] = deque()
        self.level = Level(env)

    def __len__(self) -> int:
        return len(self._items)

    def preload(self, parts: list[Part]) -> None:
        """Parts already waiting when the run starts (start from the live state)."""
        for part in parts:
            self._items.append(part)
            self.level.add(1)

    def get_nowait(self) -> Part | None:
        """The first part, or None if there is none (then call :meth:`wait_get`)."""
        items = self._items
        if items:
            part = items.popleft()
            putters = self._putters
            if putters:  # a blocked machine's part takes the freed place
                event, held = putters.popleft()
                items.append(held)
                event.succeed()
            else:  # Level.add inlined: this runs once per part and buffer
                level, now = self.level, self._env._now
                level.area += level.value * (now - level.last)
                level.last = now
                level.value -= 1
            return part
        if self._putters:  # capacity 0: straight from the blocked machine
            event, held = self._putters.popleft()
            event.succeed()
            return held
        return None

    def wait_get(self) -> simpy.Event:
        """An event whose value is the next part put."""
        event = self._env.event()
        self._getters.append(event)
        return event

    def put_nowait(self, part: Part) -> bool:
        """Hand ``part`` to a waiting machine or keep it; False when full."""
        if self._getters:
            self._getters.popleft().succeed(part)
            return True
        if len(self._items) < self.capacity:
            self._items.append(part)
            level, now = self.level, self._env._now
            level.area += level.value * (now - level.last)
            level.last = now
            level.value += 1
            return True
        return False

    def wait_put(self, part: Part) -> simpy.Event:
        """An event that fires once ``part`` has found a place."""
        event = self._env.event()
        self._putters.append((event, part))
        return event

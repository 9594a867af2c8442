"""Exponential backoff with jitter: the one retry schedule every reconnecting part uses.

Each failure doubles the delay, from ``initial`` up to ``maximum``; each wait is drawn with
equal jitter (half the delay fixed, half random), so a fleet of clients of one restarted
server spreads out instead of retrying in lock step, and no wait is shorter than half the
delay. ``reset()`` starts over once a connection has worked.
"""

from __future__ import annotations

import random


def jittered(delay: float, rng: random.Random | None = None) -> float:
    """Equal jitter: half of ``delay`` fixed, half random."""
    return delay / 2 + (rng or random).uniform(0, delay / 2)


class Backoff:
    """Delays for successive retries: ``next()`` after each failure, ``reset()`` after a success."""

    def __init__(self, *, initial: float, maximum: float, rng: random.Random | None = None) -> None:
        if not 0 < initial <= maximum:
            msg = f"backoff needs 0 < initial <= maximum, got initial {initial}, maximum {maximum}"
            raise ValueError(msg)
        self.initial = initial
        self.maximum = maximum
        self._rng = rng
        self.delay = initial  # the delay the next wait is drawn from

    def next(self) -> float:
        """Seconds to wait before the next retry; the delay after it doubles."""
        wait = jittered(self.delay, self._rng)
        self.delay = min(self.delay * 2, self.maximum)
        return wait

    def reset(self) -> None:
        self.delay = self.initial

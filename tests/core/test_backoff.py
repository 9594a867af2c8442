"""The shared reconnect schedule: doubling delays with equal jitter, reset after a success."""

from __future__ import annotations

import random

import pytest

from plantwin.core.backoff import Backoff, jittered


def test_waits_stay_within_half_and_all_of_the_delay() -> None:
    rng = random.Random(1)
    waits = [jittered(2.0, rng) for _ in range(200)]
    assert all(1.0 <= w <= 2.0 for w in waits)
    assert max(waits) - min(waits) > 0.5  # spread out, not one fixed value


def test_the_delay_doubles_up_to_the_maximum_and_resets() -> None:
    backoff = Backoff(initial=0.1, maximum=0.5, rng=random.Random(2))
    delays = []
    for _ in range(5):
        delays.append(backoff.delay)
        backoff.next()
    assert delays == [0.1, 0.2, 0.4, 0.5, 0.5]
    backoff.reset()
    assert backoff.delay == 0.1


@pytest.mark.parametrize(("initial", "maximum"), [(0.0, 1.0), (2.0, 1.0), (-1.0, 1.0)])
def test_a_schedule_that_cannot_work_is_refused(initial: float, maximum: float) -> None:
    with pytest.raises(ValueError, match="0 < initial <= maximum"):
        Backoff(initial=initial, maximum=maximum)

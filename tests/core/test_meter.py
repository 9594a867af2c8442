"""ConnectorMeter: totals, status with its start time, and the recent-rate window."""

from __future__ import annotations

import pytest

from plantwin.core.connector import ConnectorStatus
from plantwin.core.meter import ConnectorMeter


class Ticks:
    """A hand-moved monotonic clock (seconds) and wall clock (ns)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now

    def wall_ns(self) -> int:
        return int(self.now * 1e9)


def test_rate_averages_the_recent_window_and_forgets_older_seconds() -> None:
    ticks = Ticks()
    meter = ConnectorMeter(window_s=10, monotonic=ticks.monotonic, wall_ns=ticks.wall_ns)
    assert meter.rate() == 0.0
    meter.count(50)
    assert meter.rate() == 50.0  # less than a second since the first sample: per 1 s
    for _ in range(200):  # 100 samples a second for 20 s, 10 every 0.1 s
        ticks.now += 0.1
        meter.count(10)
    assert meter.rate() == pytest.approx(100.0, rel=0.02)
    assert meter.samples == 50 + 2000
    ticks.now += 30.0  # silence longer than the window
    assert meter.rate() == 0.0
    assert meter.samples == 2050  # totals are kept


def test_since_moves_only_when_the_status_changes() -> None:
    ticks = Ticks()
    meter = ConnectorMeter(monotonic=ticks.monotonic, wall_ns=ticks.wall_ns)
    meter.set_status(ConnectorStatus.CONNECTED)
    connected_at = meter.since
    assert connected_at is not None
    ticks.now += 5
    meter.set_status(ConnectorStatus.CONNECTED)
    assert meter.since == connected_at
    meter.set_status(ConnectorStatus.RECONNECTING)
    assert meter.since == connected_at + 5 * 10**9
    meter.error("connection refused")
    meter.drop(3)
    meter.dead(2)
    health = meter.health("plc1", "opcua", {"endpoint": "opc.tcp://x"})
    assert health.status is ConnectorStatus.RECONNECTING
    assert (health.dropped, health.dead_letters) == (3, 2)
    assert health.last_error == "connection refused"
    assert health.last_error_at == meter.since
    assert health.detail == {"endpoint": "opc.tcp://x"}


def test_window_must_be_a_second_or_more() -> None:
    with pytest.raises(ValueError, match="at least 1 second"):
        ConnectorMeter(window_s=0)

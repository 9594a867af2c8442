"""What one replication measured: line and station KPIs, and the active-period bottleneck.

OEE follows ISO 22400-2 as ``processing/kpis`` does, with the shift plan's working time as
planned busy time (PBT): A = APT/PBT, P = PRU*PQ/APT, Q = GQ/PQ, OEE = PRU*GQ/PBT, where
PQ counts every processing pass (rework included) and GQ the parts passed on.

The bottleneck is found with the active-period method (Roser, Nakano & Tanaka, "Shifting
bottleneck detection", Winter Simulation Conference 2002): a station is active while it
works, sets up, is down or maintained (not while starved, blocked or off); at each moment
the station whose current active period is longest is the momentary bottleneck, and the
station that is so for the largest share of time is the bottleneck of the run.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from plantwin.simulation.line.distributions import FloatArray

BOTTLENECK_GRID = 100_000  # moments sampled for the momentary bottleneck


@dataclass(frozen=True, slots=True, kw_only=True)
class StationResult:
    """One station over the observed period (after warm-up), all its machines together."""

    name: str
    machines: int
    busy: float  # share of machine time processing
    setup: float
    down: float
    maintenance: float
    starved: float
    blocked: float
    off: float
    utilisation: float  # processing time / working (shift) time
    availability: float
    performance: float
    quality: float
    oee: float
    produced: int  # processing passes
    good: int
    scrap: int
    rework: int
    failures: int
    corrective: int  # wear failures (replacement after failure)
    preventive: int  # planned replacements
    buffer_mean: float | None  # mean level of the buffer feeding the station
    mean_active_s: float
    bottleneck_share: float


@dataclass(frozen=True, slots=True, kw_only=True)
class RunResult:
    """One replication of a line."""

    line: str
    horizon_s: float
    warmup_s: float
    working_s: float  # shift time in the observed period
    good: int  # parts leaving the line
    throughput_per_h: float  # good parts per calendar hour observed
    oee: float  # line: sum PRU*GQ / sum PBT over its machines
    wip: float  # mean parts in the line
    lead_time_s: float  # mean time from release to leaving the line
    stations: tuple[StationResult, ...]
    bottleneck: str
    downtime_h: float  # machine hours down or in planned maintenance
    spare_parts: int  # wearing parts replaced
    maintenance_cost: float
    events: int  # SimPy events processed

    def kpis(self) -> dict[str, float]:
        """Every number of the run by name, for summaries across replications."""
        out = {
            "throughput_per_h": self.throughput_per_h,
            "output": float(self.good),
            "oee": self.oee,
            "wip": self.wip,
            "lead_time_min": self.lead_time_s / 60.0,
            "downtime_h": self.downtime_h,
            "spare_parts": float(self.spare_parts),
            "maintenance_cost": self.maintenance_cost,
        }
        for s in self.stations:
            out[f"utilisation[{s.name}]"] = s.utilisation
            out[f"oee[{s.name}]"] = s.oee
            out[f"bottleneck_share[{s.name}]"] = s.bottleneck_share
            out[f"failures[{s.name}]"] = float(s.failures)
            if s.buffer_mean is not None:
                out[f"buffer_mean[{s.name}]"] = s.buffer_mean
        return out

    def station(self, name: str) -> StationResult:
        return next(s for s in self.stations if s.name == name)


def active_periods(
    starts: Sequence[float], ends: Sequence[float], *, lo: float, hi: float
) -> tuple[FloatArray, FloatArray]:
    """Active periods clipped to the observed window [lo, hi], empty ones dropped."""
    s = np.clip(np.asarray(starts, np.float64), lo, hi)
    e = np.clip(np.asarray(ends, np.float64), lo, hi)
    keep = e > s
    return s[keep], e[keep]


def bottleneck_shares(
    periods: list[tuple[FloatArray, FloatArray]], *, lo: float, hi: float
) -> FloatArray:
    """Share of sampled moments at which each station's current active period is longest."""
    grid = np.linspace(lo, hi, BOTTLENECK_GRID, endpoint=False)
    longest = np.zeros((len(periods), grid.size))
    for row, (starts, ends) in zip(longest, periods, strict=True):
        if starts.size == 0:
            continue
        # periods of one station do not overlap: the one holding t starts last before it
        i = np.searchsorted(starts, grid, side="right") - 1
        inside = (i >= 0) & (grid < ends[np.maximum(i, 0)])
        row[inside] = (ends - starts)[i[inside]]
    anyone = longest.max(axis=0) > 0
    winner = longest.argmax(axis=0)[anyone]
    counts = np.bincount(winner, minlength=len(periods)).astype(np.float64)
    return counts / grid.size

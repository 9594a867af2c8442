"""What a line model is made of: stations, buffers, failures, wear, shifts, a maintenance policy.

Times are seconds of simulated time. Failure clocks count *operating* seconds (the station
processing a part), as ISO 22400 counts time between failures and as the demo plant does:
a starved machine does not age.
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass, field
from enum import StrEnum

from plantwin.simulation.line.distributions import Distribution, check_distribution


@dataclass(frozen=True, slots=True, kw_only=True)
class FailureSpec:
    """A random failure mode: operating time between failures, and the time to repair."""

    between: Distribution
    repair: Distribution
    name: str = "failure"


@dataclass(frozen=True, slots=True, kw_only=True)
class SetupSpec:
    """A changeover (tool change) after every ``every_parts`` parts."""

    every_parts: int
    duration: Distribution


@dataclass(frozen=True, slots=True, kw_only=True)
class PlannedStopSpec:
    """Planned maintenance on a calendar: due every ``interval_s``, taken at the end of a cycle."""

    interval_s: float
    duration: Distribution
    first_s: float = 0.0


@dataclass(frozen=True, slots=True, kw_only=True)
class WearSpec:
    """A wear-out failure mode watched by a degradation signal (the spindle bearing).

    The signal is ``v0`` until a healthy ``onset`` (operating seconds), then grows as
    ``v0 + a (exp((t - onset) / tau) - 1)`` (DOMAIN 3.2, Gebraeel-style); the machine fails
    when it reaches ``failure_level`` and a monitor raises an alarm at ``alarm_level``.
    The alarm-to-failure time is the P-F interval a condition-based policy can use.
    """

    onset: Distribution
    growth_a: Distribution  # same unit as the levels
    growth_tau: Distribution  # operating seconds
    v0: float
    alarm_level: float
    failure_level: float
    replace: Distribution  # corrective replacement after a failure (collateral damage, waiting)
    planned_replace: Distribution  # the same replacement, planned and prepared


class PolicyKind(StrEnum):
    RUN_TO_FAILURE = "run_to_failure"
    FIXED_INTERVAL = "fixed_interval"
    CONDITION = "condition"


@dataclass(frozen=True, slots=True, kw_only=True)
class MaintenancePolicy:
    """When a machine with a wear mode gets its wearing part replaced before it fails.

    - run_to_failure: only after a failure;
    - fixed_interval: every ``interval_s`` operating seconds since the last replacement;
    - condition: ``lead_s`` operating seconds after the condition alarm (the time it takes to
      plan the stop). With ``rul_error`` > 0 the alarm is replaced by a remaining-useful-life
      prediction with that log-normal relative error, acted on ``margin_s`` before the
      predicted failure (never before the alarm, when degradation first becomes visible).
    """

    kind: PolicyKind = PolicyKind.RUN_TO_FAILURE
    interval_s: float = math.inf
    lead_s: float = 0.0
    rul_error: float = 0.0
    margin_s: float = 0.0


@dataclass(frozen=True, slots=True, kw_only=True)
class MaintenanceCosts:
    """Costs a maintenance study weighs (any currency, the scenario's)."""

    corrective: float = 0.0  # per failure repair (labour, call-out)
    preventive: float = 0.0  # per planned replacement
    spare_part: float = 0.0  # per replacement of the wearing part
    downtime_per_h: float = 0.0  # lost production per hour a machine is down or maintained


@dataclass(frozen=True, slots=True, kw_only=True)
class StationSpec:
    """One station: ``machines`` identical machines in parallel, taking from one buffer."""

    name: str
    cycle: Distribution
    machines: int = 1
    failures: tuple[FailureSpec, ...] = ()
    setup: SetupSpec | None = None
    scrap: float = 0.0  # share of processed parts scrapped here
    rework: float = 0.0  # share processed again at once on the same machine
    wear: WearSpec | None = None
    planned_stop: PlannedStopSpec | None = None
    ideal_cycle_s: float | None = None  # PRU for OEE; default the cycle's mean

    @property
    def ideal_s(self) -> float:
        return self.ideal_cycle_s if self.ideal_cycle_s is not None else self.cycle.mean


@dataclass(frozen=True, slots=True, kw_only=True)
class ShiftPlan:
    """Working windows repeating every ``period_s`` (a day, a week); planned stops are gaps.

    ``windows`` are (start, end) seconds from the period start, sorted and not overlapping;
    ``origin_s`` is the simulation time at which a period starts.
    """

    period_s: float
    windows: tuple[tuple[float, float], ...]
    origin_s: float = 0.0
    _starts: tuple[float, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        last = 0.0
        for start, end in self.windows:
            if not (last <= start < end <= self.period_s):
                msg = (
                    f"shift window ({start}, {end}) s must lie in [0, {self.period_s}] s, "
                    "after the previous window and not be empty"
                )
                raise ValueError(msg)
            last = end
        if not self.windows:
            msg = "a shift plan needs at least one working window"
            raise ValueError(msg)
        object.__setattr__(self, "_starts", tuple(s for s, _ in self.windows))

    def next_start(self, t: float) -> float:
        """``t`` if it is working time, else the start of the next working window."""
        base = self.origin_s + math.floor((t - self.origin_s) / self.period_s) * self.period_s
        offset = t - base
        i = bisect.bisect_right(self._starts, offset) - 1
        if i >= 0 and offset < self.windows[i][1]:
            return t
        if i + 1 < len(self.windows):
            return base + self.windows[i + 1][0]
        return base + self.period_s + self.windows[0][0]

    def working_s(self, start: float, end: float) -> float:
        """Working seconds in [start, end)."""
        return self._cumulative(end) - self._cumulative(start)

    def _cumulative(self, t: float) -> float:
        per_period = sum(e - s for s, e in self.windows)
        periods = math.floor((t - self.origin_s) / self.period_s)
        offset = t - self.origin_s - periods * self.period_s
        inside = sum(max(0.0, min(e, offset) - s) for s, e in self.windows)
        return periods * per_period + inside


@dataclass(frozen=True, slots=True, kw_only=True)
class LineSpec:
    """A serial line: stations in flow order, ``buffers[i]`` parts between station i and i+1.

    Without ``arrivals`` the first station never waits for raw parts (the usual what-if
    assumption: the line's capacity is studied); with it, parts arrive at those intervals
    into a queue of ``arrival_buffer`` places (None: unlimited) before the first station.
    """

    name: str
    stations: tuple[StationSpec, ...]
    buffers: tuple[int | None, ...]
    arrivals: Distribution | None = None
    arrival_buffer: int | None = None
    shifts: ShiftPlan | None = None
    policy: MaintenancePolicy = MaintenancePolicy()
    costs: MaintenanceCosts = MaintenanceCosts()

    def __post_init__(self) -> None:
        check_line(self)

    def station(self, name: str) -> StationSpec:
        for station in self.stations:
            if station.name == name:
                return station
        known = ", ".join(s.name for s in self.stations)
        msg = f"line {self.name!r} has no station {name!r} (stations: {known})"
        raise KeyError(msg)


def check_line(line: LineSpec) -> None:
    """Raise ValueError naming the station or buffer whose settings cannot be simulated."""
    if not line.stations:
        msg = f"line {line.name!r} has no stations"
        raise ValueError(msg)
    if len(line.buffers) != len(line.stations) - 1:
        msg = (
            f"line {line.name!r}: {len(line.stations)} stations need "
            f"{len(line.stations) - 1} buffers between them, got {len(line.buffers)}"
        )
        raise ValueError(msg)
    names = [s.name for s in line.stations]
    if len(set(names)) != len(names):
        msg = f"line {line.name!r}: station names repeat: {names}"
        raise ValueError(msg)
    for i, capacity in enumerate(line.buffers):
        if capacity is not None and capacity < 0:
            msg = f"line {line.name!r}: buffer after {names[i]!r} has capacity {capacity} < 0"
            raise ValueError(msg)
    if line.arrivals is not None:
        check_distribution(line.arrivals, f"line {line.name!r} arrivals")
    for s in line.stations:
        check_station(s)


def check_station(s: StationSpec) -> None:
    """Raise ValueError naming the station and the setting that cannot be simulated."""
    where = f"station {s.name!r}"
    if s.machines < 1:
        msg = f"{where}: needs at least one machine, got {s.machines}"
        raise ValueError(msg)
    if not (s.scrap >= 0.0 and s.rework >= 0.0 and s.scrap + s.rework < 1.0):
        msg = f"{where}: scrap {s.scrap} and rework {s.rework} must be >= 0, sum below 1"
        raise ValueError(msg)
    check_distribution(s.cycle, f"{where} cycle")
    for f in s.failures:
        check_distribution(f.between, f"{where} {f.name} time between failures")
        check_distribution(f.repair, f"{where} {f.name} repair")
    if s.setup is not None:
        if s.setup.every_parts < 1:
            msg = f"{where}: setup every {s.setup.every_parts} parts must be >= 1"
            raise ValueError(msg)
        check_distribution(s.setup.duration, f"{where} setup")
    if s.planned_stop is not None:
        if not s.planned_stop.interval_s > 0:
            msg = f"{where}: planned stops need an interval > 0"
            raise ValueError(msg)
        check_distribution(s.planned_stop.duration, f"{where} planned stop")
    if s.wear is not None and not (s.wear.v0 < s.wear.alarm_level < s.wear.failure_level):
        msg = f"{where}: wear levels need v0 < alarm_level < failure_level"
        raise ValueError(msg)

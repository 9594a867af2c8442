"""Ground truth: what really happened in the simulated plant, for tests and analytics labels.

Not part of the Connector protocol. Records are appended when an episode ends (a failure
when the machine is back in service, a tool change when the setup is done), so an episode
still open at the end of a run is not listed yet.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True, kw_only=True)
class Failure:
    asset: str
    cause: str
    start_ns: int
    end_ns: int


@dataclass(frozen=True, slots=True, kw_only=True)
class BearingLife:
    """A spindle bearing from installation to replacement after it failed."""

    asset: str
    serial: int
    installed_ns: int
    failed_ns: int
    replaced_ns: int
    running_h: float  # nominal-speed running hours at failure
    onset_h: float  # when the defect started growing
    vibration_mm_s: float  # true vibration at failure


@dataclass(frozen=True, slots=True, kw_only=True)
class ToolChange:
    asset: str
    tool: int
    start_ns: int
    end_ns: int
    parts: int
    cut_min: float
    wear_mm: float
    reason: str  # "planned" (part count) or "wear limit"


@dataclass(frozen=True, slots=True, kw_only=True)
class Inspection:
    """One part at the CMM: true and measured dimensions, verdict, tool wear when it was cut."""

    ts_ns: int
    part: int
    diameter_true: float
    width_true: float
    diameter: float
    width: float
    good: bool
    mill_wear_mm: float
    lathe_wear_mm: float
    defect: str  # "" or what went wrong besides wear (clamping, chips)


@dataclass(frozen=True, slots=True, kw_only=True)
class Maintenance:
    asset: str
    start_ns: int
    end_ns: int


@dataclass(frozen=True, slots=True, kw_only=True)
class CommandLog:
    ts_ns: int
    address: str
    value: float  # in the command parameter's unit
    accepted: bool
    note: str = ""


@dataclass(slots=True, kw_only=True)
class GroundTruth:
    failures: list[Failure] = field(default_factory=list)
    bearings: list[BearingLife] = field(default_factory=list)
    tools: list[ToolChange] = field(default_factory=list)
    parts: list[Inspection] = field(default_factory=list)
    maintenance: list[Maintenance] = field(default_factory=list)
    commands: list[CommandLog] = field(default_factory=list)
    # seconds spent in each state code (index = code) per asset
    state_s: dict[str, list[int]] = field(default_factory=dict)

    def seconds(self, asset: str, code: int) -> int:
        return self.state_s[asset][code]

    def availability(self, asset: str) -> float:
        """Share of time outside planned maintenance that the asset was not down (code 3)."""
        tally = self.state_s[asset]
        planned = sum(tally) - tally[4]
        return 1.0 - tally[3] / planned if planned else 1.0

    def utilization(self, asset: str, operating: tuple[int, ...] = (1, 2)) -> float:
        """Operating share (running, setup by default) of the time neither down nor planned."""
        tally = self.state_s[asset]
        up = sum(tally) - tally[3] - tally[4]
        return sum(tally[c] for c in operating) / up if up else 0.0

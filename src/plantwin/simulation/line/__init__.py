"""What-if discrete-event model of a production line (SimPy).

``LineSpec`` describes a serial line (stations, buffers, failures, wear, shifts, a
maintenance policy); ``run_line`` simulates one replication and measures throughput, OEE,
WIP, lead time, utilisation and the active-period bottleneck.
"""

from plantwin.simulation.line.engine import StartState, run_line
from plantwin.simulation.line.results import RunResult, StationResult
from plantwin.simulation.line.spec import (
    FailureSpec,
    LineSpec,
    MaintenanceCosts,
    MaintenancePolicy,
    PolicyKind,
    SetupSpec,
    ShiftPlan,
    StationSpec,
    WearSpec,
)

__all__ = [
    "FailureSpec",
    "LineSpec",
    "MaintenanceCosts",
    "MaintenancePolicy",
    "PolicyKind",
    "RunResult",
    "SetupSpec",
    "ShiftPlan",
    "StartState",
    "StationResult",
    "StationSpec",
    "WearSpec",
    "run_line",
]

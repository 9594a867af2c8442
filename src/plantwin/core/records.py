"""Low-rate records next to the sample stream: state changes, events and dead letters.

Timestamps are integer nanoseconds since the Unix epoch, UTC, like sample timestamps.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


@dataclass(frozen=True, slots=True, kw_only=True)
class DeadLetter:
    """Input that could not become a sample, kept with its raw bytes and the reason."""

    received: int
    source: str
    reason: str
    raw: bytes
    location: str = ""  # where in the input: line number, address, field path


@dataclass(frozen=True, slots=True, kw_only=True)
class StateChange:
    """A twin entered a discrete state (running, idle, down ...) at ``ts``."""

    ts: int
    twin: str
    state: str
    previous: str | None
    previous_since: int | None = None


class EventKind(StrEnum):
    STATE = "state"
    LIFECYCLE = "lifecycle"  # start, stop, resume of the runtime
    CONNECTOR = "connector"  # connected, lost, recovered
    MAINTENANCE = "maintenance"  # repairs, tool and bearing changes reported by a source
    NOTE = "note"


@dataclass(frozen=True, slots=True, kw_only=True)
class Event:
    """Something that happened to a twin, for the history and the operator log."""

    ts: int
    twin: str
    kind: EventKind
    message: str
    data: dict[str, str | float | int | bool] = field(default_factory=dict)

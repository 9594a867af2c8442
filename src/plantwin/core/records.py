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
    ALARM = "alarm"  # alarm-system events: floods beginning and ending


@dataclass(frozen=True, slots=True, kw_only=True)
class Event:
    """Something that happened to a twin, for the history and the operator log."""

    ts: int
    twin: str
    kind: EventKind
    message: str
    data: dict[str, str | float | int | bool] = field(default_factory=dict)


class AlarmState(StrEnum):
    """ISA-18.2 alarm states (DOMAIN 2.1), derived from the alarm's flags."""

    NORMAL = "normal"
    UNACKNOWLEDGED = "unacknowledged"  # active, not acknowledged
    ACKNOWLEDGED = "acknowledged"  # active, acknowledged
    RTN_UNACKNOWLEDGED = "rtn_unacknowledged"  # returned to normal, not acknowledged
    LATCHED = "latched"  # returned to normal, acknowledged, waits for a reset
    SHELVED = "shelved"
    SUPPRESSED = "suppressed"  # by design (e.g. the machine is in maintenance)
    OUT_OF_SERVICE = "out_of_service"


@dataclass(frozen=True, slots=True, kw_only=True)
class AlarmEvent:
    """One transition of an alarm, with the alarm's flags after it.

    ``action`` says what caused it: ``activate``, ``clear``, ``ack``, ``reset``, ``shelve``,
    ``unshelve``, ``suppress``, ``unsuppress``, ``out_of_service``, ``in_service``,
    ``annunciate`` (shown after a flood held it back), ``realarm`` (acknowledged but still
    active for the rule's re-alarm time). The flags make each event a complete
    snapshot, so the newest event of an alarm restores it after a restart; retention keeps
    each alarm's newest event for that reason.
    """

    ts: int
    alarm: str  # "<twin id>:<rule name>"
    twin: str
    action: str
    state: AlarmState
    previous: AlarmState
    priority: str
    active: bool
    acked: bool
    latched: bool = False
    shelved_until: int | None = None
    out_of_service: bool = False
    suppressed: bool = False
    annunciated: bool = True  # false while a flood hides low-priority activations
    first_out: bool = False
    value: float | None = None
    message: str = ""
    user: str = ""
    reason: str = ""
    since: int | None = None  # when the current activation started


class CommandStatus(StrEnum):
    """Life cycle of a command sent to a machine (docs/operations.md#commands)."""

    PENDING_APPROVAL = "pending_approval"  # critical: waits for a second user
    ACCEPTED = "accepted"  # valid and allowed; about to be sent
    SENT = "sent"  # the connector took the write
    ACKNOWLEDGED = "acknowledged"  # the machine reports the value asked for
    REJECTED = "rejected"  # refused: state, interlock, or by the approver
    FAILED = "failed"  # the connector could not write
    TIMED_OUT = "timed_out"  # no matching report within the command's timeout


FINAL_COMMAND_STATUSES = frozenset(
    {
        CommandStatus.ACKNOWLEDGED,
        CommandStatus.REJECTED,
        CommandStatus.FAILED,
        CommandStatus.TIMED_OUT,
    }
)

CommandValue = str | float | int | bool


@dataclass(frozen=True, slots=True, kw_only=True)
class CommandEvent:
    """One step of a command's life cycle: the audit trail of who asked for what, and how
    it ended. Each event repeats the command's parameters, so any one of them tells the whole
    request; ``user`` is who caused this step ("" for the machine or a timer)."""

    ts: int
    id: str  # command id, unique in the store
    twin: str
    command: str
    status: CommandStatus
    previous: CommandStatus | None
    requested_by: str
    user: str = ""
    parameters: dict[str, CommandValue] = field(default_factory=dict)
    reason: str = ""  # the requester's (or approver's) reason
    message: str = ""  # what happened: the interlock, the connector error ...

"""Response schemas of the REST API (pydantic, so they appear in /openapi.json)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class ErrorBody(BaseModel):
    status: int
    message: str
    detail: list[dict[str, Any]] | None = None


class ErrorResponse(BaseModel):
    error: ErrorBody


class StateOut(BaseModel):
    name: str
    category: str
    since: str | None


class RollupOut(BaseModel):
    category: str | None = Field(
        description="rolled-up category: fault > planned > production > setup > idle > off"
    )
    since: str | None
    counts: dict[str, int] = Field(description="assets at or below the twin per state category")


class TwinNode(BaseModel):
    id: str
    name: str
    kind: str
    type: str | None
    state: str | None
    category: str | None
    children: list[TwinNode]


class TwinTree(BaseModel):
    plant: str
    twins: int
    signals: int
    roots: list[TwinNode]


class SignalOut(BaseModel):
    name: str
    key: str
    unit: str
    value: float | None
    time: str | None
    quality: list[str] = Field(description="empty when good; else the quality flags set")
    derived: bool
    range: tuple[float | None, float | None]


class ParamOut(BaseModel):
    name: str
    type: str
    unit: str | None
    min: float | None
    max: float | None
    choices: list[str] | None


class InterlockOut(BaseModel):
    when: str = Field(description="expression over the twin's signals; true blocks the command")
    message: str


class CommandOut(BaseModel):
    name: str
    description: str
    params: list[ParamOut]
    allowed_states: list[str] | None
    critical: bool
    reports: str | None = Field(
        default=None, description="signal key on which the machine reports the value"
    )
    timeout_s: float | None = Field(default=None, description="wait for the report, plant s")
    interlocks: list[InterlockOut] = Field(default_factory=list)


class TwinDetail(BaseModel):
    id: str
    name: str
    kind: str
    type: str | None
    parent: str | None
    children: list[str]
    description: str
    properties: dict[str, Any]
    position: list[float] | None
    state: StateOut | None
    rollup: RollupOut
    signals: list[SignalOut]
    commands: list[CommandOut]


class HistoryOut(BaseModel):
    twin: str
    signal: str
    unit: str
    start: str
    end: str
    every: str | None = Field(description="bucket width as ISO 8601 duration; null for raw rows")
    rows: int
    time: list[str]
    min: list[float] | None = None
    max: list[float] | None = None
    mean: list[float] | None = None
    last: list[float] | None = None
    value: list[float] | None = None
    count: list[int] | None = None
    quality: list[int]


class HealthOut(BaseModel):
    status: str
    plant: str
    version: str
    details: dict[str, Any]


class AlarmOut(BaseModel):
    id: str = Field(description="'<twin id>:<rule name>'")
    twin: str
    rule: str
    kind: str
    priority: str = Field(description="low, medium, high or critical")
    state: str = Field(
        description="ISA-18.2: normal, unacknowledged, acknowledged, rtn_unacknowledged, "
        "latched, shelved, suppressed, out_of_service"
    )
    active: bool
    acknowledged: bool
    annunciated: bool = Field(description="false while a flood holds back low/medium alarms")
    first_out: bool = Field(description="the first alarm of its machine in this episode")
    since: str | None = Field(description="start of the current activation")
    changed: str | None = Field(description="time of the last transition")
    shelved_until: str | None
    value: float | None
    unit: str
    message: str


class AlarmGroupOut(BaseModel):
    rule: str
    priority: str
    count: int
    first: str | None = Field(description="earliest activation in the group")
    first_out: str | None = Field(description="id of the group's first-out alarm, if any")
    twins: list[str]


class FloodOut(BaseModel):
    site: str
    since: str


class AlarmListOut(BaseModel):
    alarms: list[AlarmOut]
    total: int = Field(description="alarms matching the filters before the limit")
    counts: dict[str, int] = Field(description="visible alarms per priority")
    floods: list[FloodOut]
    groups: list[AlarmGroupOut] | None = Field(
        default=None, description="with group=rule: the same rule on many twins as one row"
    )


class AlarmEventOut(BaseModel):
    time: str
    alarm: str
    twin: str
    action: str
    state: str
    previous: str
    priority: str
    active: bool
    acknowledged: bool
    first_out: bool
    annunciated: bool
    value: float | None
    message: str
    user: str | None
    reason: str | None


class AlarmHistoryOut(BaseModel):
    events: list[AlarmEventOut]


class AlarmAction(BaseModel):
    """An operator action; who did it is the authenticated user, not a field."""

    reason: str = Field(default="", max_length=1000)


class ShelveAction(AlarmAction):
    duration: str = Field(description="how long, e.g. 30m, 2h (at most 8 h)")
    one_shot: bool = Field(
        default=False, description="also end the shelving when the alarm clears (ISA-18.2)"
    )


class RuleOut(BaseModel):
    id: str
    twin: str
    name: str
    kind: str
    priority: str
    alarm: bool
    signal: str | None
    above: float | None
    below: float | None
    unit: str
    active: bool = Field(description="the rule's condition now (after its delays)")
    description: str


class RuleListOut(BaseModel):
    rules: list[RuleOut]


CONNECTOR_STATES = (
    "starting",
    "connected",
    "reconnecting",
    "stopped",
    "failed",
    "finished",
    "not_running",
)


class ConnectorOut(BaseModel):
    name: str
    kind: str
    description: str
    status: str = Field(
        description="starting, connected, reconnecting, stopped, failed, finished (a replayed "
        "file is done) or not_running (declared but not started; see reason)",
        json_schema_extra={"enum": list(CONNECTOR_STATES)},
    )
    since: str | None = Field(description="when the current status began (wall clock, UTC)")
    reason: str | None = Field(description="why the connector is not running")
    signals: int = Field(description="signals bound to this connector in the plant file")
    samples: int = Field(description="readings handed to the pipeline")
    samples_per_s: float = Field(description="readings per second over the last 10 s")
    dropped: int = Field(description="readings lost at the connector")
    dead_letters: int = Field(description="malformed input the connector turned into dead letters")
    last_error: str | None
    last_error_at: str | None
    detail: dict[str, int | float | str] = Field(description="figures of this connector kind")


class ConnectorList(BaseModel):
    connectors: list[ConnectorOut]


class IngestErrorOut(BaseModel):
    line: int | None = Field(default=None, description="line of a JSON-lines body (from 1)")
    row: int | None = Field(default=None, description="row of an Arrow stream (from 1)")
    reason: str


class IngestOut(BaseModel):
    connector: str
    format: str = Field(
        description="ndjson or arrow", json_schema_extra={"enum": ["ndjson", "arrow"]}
    )
    records: int = Field(description="records in the body")
    accepted: int = Field(
        description="records handed to the pipeline; they are stored within the store's flush "
        "interval (about a second)"
    )
    rejected: int = Field(description="records that became dead letters (stored with reason)")
    errors: list[IngestErrorOut] = Field(description="the first 1000 rejected records and why")
    errors_truncated: bool

"""Request and response schemas of the command routes (pydantic: they appear in /openapi.json)."""

from __future__ import annotations

from pydantic import BaseModel, Field

ParameterValue = float | int | bool | str


class CommandRequest(BaseModel):
    twin: str = Field(description="twin id, e.g. changwon.L1.mill1", min_length=1, max_length=500)
    command: str = Field(description="a command the twin's plant model declares", min_length=1)
    parameters: dict[str, ParameterValue] = Field(
        default_factory=dict, description="by name, in the parameter's unit"
    )
    reason: str = Field(default="", max_length=1000)


class ApprovalRequest(BaseModel):
    """Who approves or rejects is the authenticated user (not the requester)."""

    reason: str = Field(default="", max_length=1000)


class CommandEventOut(BaseModel):
    time: str
    status: str
    previous: str | None
    user: str | None = Field(description="who caused this step; null for the machine or a timer")
    reason: str | None
    message: str | None


class IssuedCommandOut(BaseModel):
    id: str
    twin: str
    command: str
    parameters: dict[str, ParameterValue]
    status: str = Field(
        description="pending_approval, accepted, sent, acknowledged, rejected, failed, timed_out"
    )
    critical: bool
    requested: str
    requested_by: str
    reason: str | None
    approved_by: str | None = Field(description="the second user of a critical command")
    desired: float | None = Field(description="value the reported signal should show, its unit")
    reported: float | None = Field(description="value the machine reported at the end")
    message: str | None = Field(description="what happened last (interlock, connector error ...)")
    events: list[CommandEventOut] = Field(description="every step, oldest first")


class IssuedCommandListOut(BaseModel):
    commands: list[IssuedCommandOut] = Field(description="newest first")
    total: int = Field(description="matching commands before the limit")


class DesiredOut(BaseModel):
    command: str
    signal: str = Field(description="signal key on which the machine reports the value")
    unit: str
    desired: float | None = Field(description="newest value sent; null: never commanded")
    reported: float | None
    reported_at: str | None
    in_sync: bool | None = Field(description="reported within the command's tolerance")
    last_command: str | None
    status: str | None


class DesiredListOut(BaseModel):
    twin: str
    properties: list[DesiredOut]

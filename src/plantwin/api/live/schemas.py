"""The live protocol's messages as pydantic models: they validate what clients send and
document every message in OpenAPI (GET /api/v1/live/protocol returns one of each)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from plantwin.api.live.ring import Kind

MAX_RATE_HZ = 50.0


class Subscription(BaseModel):
    model_config = ConfigDict(extra="forbid")

    twins: list[str] = Field(
        default_factory=list,
        description="Twin ids; each selects its own and its descendants' signals and records.",
    )
    signals: list[str] = Field(
        default_factory=list,
        description="Signal keys ('<twin id>/<signal>'); also selects their twins' records.",
    )
    kinds: list[Kind] = Field(
        default_factory=lambda: list(Kind), description="What to receive; default all."
    )
    max_rate_hz: float = Field(
        default=10.0,
        gt=0,
        le=MAX_RATE_HZ,
        description="Most frames per second; samples are decimated to one point per signal "
        "per frame (last value, with min, max and count of the samples it stands for).",
    )


class SubscribeMessage(BaseModel):
    """Client -> server. Sent first (or after `auth`), and again to change the selection."""

    model_config = ConfigDict(extra="forbid")

    subscribe: Subscription
    resume_from: int | None = Field(
        default=None,
        ge=0,
        description="Last sequence number received; the server resends everything after "
        "it, or says `gap` and sends a snapshot when it no longer holds it.",
    )
    stream: str | None = Field(
        default=None,
        description="The `stream` of the run the sequence number came from; another run "
        "(a restarted server) means a gap.",
    )


class AuthMessage(BaseModel):
    """Client -> server, optional first message; `?token=` in the URL does the same."""

    model_config = ConfigDict(extra="forbid")

    auth: dict[str, str] = Field(description='{"token": "..."}')


class SubscribedOut(BaseModel):
    type: Literal["subscribed"] = "subscribed"
    stream: str = Field(description="This server run; give it back with `resume_from`.")
    seq: int = Field(description="Newest sequence number when the subscription took effect.")
    signals: int = Field(description="Number of signals selected.")
    twins: int = Field(description="Number of twins selected.")
    kinds: list[Kind]
    max_rate_hz: float


class FrameOut(BaseModel):
    type: Literal["frame"] = "frame"
    seq: tuple[int, int] = Field(
        description="First and last sequence number this frame accounts for, including "
        "messages the subscription filtered out: each frame starts right after the previous "
        "frame's (or the snapshot's) last number, so a client sees any gap."
    )
    samples: dict[str, list[float]] | None = Field(
        default=None,
        description="Signal key -> [ts_ms, value, min, max, n, quality]: the newest sample "
        "(epoch milliseconds UTC), min and max of the n samples it stands for, quality bits.",
    )
    states: list[dict[str, Any]] | None = Field(default=None, description="State changes.")
    alarms: list[dict[str, Any]] | None = Field(default=None, description="Alarm events.")
    commands: list[dict[str, Any]] | None = Field(default=None, description="Command steps.")
    events: list[dict[str, Any]] | None = Field(
        default=None, description="Events (runtime start/stop, alarm floods, ...)."
    )


class GapOut(BaseModel):
    type: Literal["gap"] = "gap"
    gap: Literal[True] = True
    missed_from: int = Field(description="First sequence number the client will not get.")
    missed_to: int = Field(description="Last one; a snapshot at `missed_to` follows.")
    reason: str


class SnapshotOut(BaseModel):
    type: Literal["snapshot"] = "snapshot"
    stream: str
    seq: int = Field(description="The snapshot holds at least everything up to this number.")
    time: str = Field(description="Plant time of the snapshot, ISO 8601 UTC.")
    signals: dict[str, list[float]] = Field(
        default_factory=dict, description="Signal key -> [ts_ms, value, quality]; known ones."
    )
    states: dict[str, dict[str, Any]] = Field(
        default_factory=dict, description="Twin id -> state, since, rollup, rollup_since."
    )
    alarms: list[dict[str, Any]] = Field(
        default_factory=list, description="Alarms not normal (as GET /api/v1/alarms)."
    )
    commands: list[dict[str, Any]] = Field(
        default_factory=list, description="Commands not finished (as GET /api/v1/commands)."
    )


class LiveErrorOut(BaseModel):
    type: Literal["error"] = "error"
    where: str = Field(description="The part of the client's message that is wrong.")
    message: str


class LiveProtocolOut(BaseModel):
    """One example of every message, so OpenAPI documents them all."""

    endpoint: str
    description: str
    close_codes: dict[str, str]
    auth: AuthMessage
    subscribe: SubscribeMessage
    subscribed: SubscribedOut
    frame: FrameOut
    gap: GapOut
    snapshot: SnapshotOut
    error: LiveErrorOut

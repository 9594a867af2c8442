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


class CommandOut(BaseModel):
    name: str
    description: str
    params: list[ParamOut]
    allowed_states: list[str] | None
    critical: bool


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

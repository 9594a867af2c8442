"""Records as the live API sends them: JSON-ready dicts, times in ISO 8601 UTC."""

from __future__ import annotations

from typing import Any

from plantwin.api.live.ring import Kind
from plantwin.core.bus import Message
from plantwin.core.clock import iso
from plantwin.core.records import AlarmEvent, CommandEvent, Event, StateChange


def _iso_or_none(ns: int | None) -> str | None:
    return iso(ns) if ns is not None else None


def encode(message: Message) -> tuple[Kind, str, dict[str, Any]] | None:
    """(kind, twin, JSON dict) of a record the live API carries; None for others."""
    if isinstance(message, StateChange):
        return (
            Kind.STATES,
            message.twin,
            {
                "ts": iso(message.ts),
                "twin": message.twin,
                "state": message.state,
                "previous": message.previous,
                "previous_since": _iso_or_none(message.previous_since),
            },
        )
    if isinstance(message, AlarmEvent):
        return (
            Kind.ALARMS,
            message.twin,
            {
                "ts": iso(message.ts),
                "alarm": message.alarm,
                "twin": message.twin,
                "action": message.action,
                "state": message.state.value,
                "previous": message.previous.value,
                "priority": message.priority,
                "active": message.active,
                "acknowledged": message.acked,
                "annunciated": message.annunciated,
                "value": message.value,
                "message": message.message,
                "user": message.user,
                "since": _iso_or_none(message.since),
            },
        )
    if isinstance(message, CommandEvent):
        return (
            Kind.COMMANDS,
            message.twin,
            {
                "ts": iso(message.ts),
                "id": message.id,
                "twin": message.twin,
                "command": message.command,
                "status": message.status.value,
                "previous": message.previous.value if message.previous else None,
                "requested_by": message.requested_by,
                "user": message.user,
                "parameters": dict(message.parameters),
                "message": message.message,
            },
        )
    if isinstance(message, Event):
        return (
            Kind.EVENTS,
            message.twin,
            {
                "ts": iso(message.ts),
                "twin": message.twin,
                "kind": message.kind.value,
                "message": message.message,
                "data": dict(message.data),
            },
        )
    return None  # dead letters and sample batches are not records of the live API

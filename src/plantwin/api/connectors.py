"""Connector routes: the status of every connector the plant file declares."""

from __future__ import annotations

import difflib

from fastapi import APIRouter

from plantwin.api.auth import Reader
from plantwin.api.context import ApiContext
from plantwin.api.deps import Context
from plantwin.api.errors import NotFoundError
from plantwin.api.schemas import ConnectorList, ConnectorOut
from plantwin.core.clock import iso
from plantwin.core.connector import ConnectorHealth

router = APIRouter(prefix="/api/v1", tags=["connectors"])


def _time(ns: int | None) -> str | None:
    return iso(ns) if ns is not None else None


def _bound_signals(ctx: ApiContext, name: str) -> int:
    return sum(1 for b in ctx.plant.bindings if b.connector == name and "#" not in b.signal)


def _running(ctx: ApiContext, health: ConnectorHealth) -> ConnectorOut:
    declared = ctx.plant.connectors.get(health.name)
    return ConnectorOut(
        name=health.name,
        kind=health.kind,
        description=declared.description if declared is not None else "",
        status=health.status.value,
        since=_time(health.since),
        reason=None,
        signals=_bound_signals(ctx, health.name),
        samples=health.samples,
        samples_per_s=health.samples_per_s,
        dropped=health.dropped,
        dead_letters=health.dead_letters,
        last_error=health.last_error,
        last_error_at=_time(health.last_error_at),
        detail=dict(health.detail),
    )


def _all(ctx: ApiContext) -> list[ConnectorOut]:
    """Plant-file order; running connectors with their figures, the others with the reason."""
    running = {h.name: _running(ctx, h) for h in ctx.connectors()}
    out: list[ConnectorOut] = []
    for name, declared in ctx.plant.connectors.items():
        if name in running:
            out.append(running.pop(name))
            continue
        out.append(
            ConnectorOut(
                name=name,
                kind=declared.kind,
                description=declared.description,
                status="not_running",
                since=None,
                reason=ctx.not_running.get(name, "not started"),
                signals=_bound_signals(ctx, name),
                samples=0,
                samples_per_s=0.0,
                dropped=0,
                dead_letters=0,
                last_error=None,
                last_error_at=None,
                detail={},
            )
        )
    return out + list(running.values())  # e.g. the simulator, when not declared


@router.get("/connectors", response_model=ConnectorList, summary="Status of every connector")
async def connector_list(ctx: Context, _: Reader) -> ConnectorList:
    return ConnectorList(connectors=_all(ctx))


@router.get("/connectors/{name}", response_model=ConnectorOut, summary="Status of one connector")
async def connector_detail(name: str, ctx: Context, _: Reader) -> ConnectorOut:
    connectors = _all(ctx)
    for connector in connectors:
        if connector.name == name:
            return connector
    names = [c.name for c in connectors]
    close = difflib.get_close_matches(name, names, n=3)
    hint = f"; did you mean {', '.join(close)}?" if close else ""
    msg = f"no connector '{name}'{hint} (connectors: {', '.join(names) or 'none'})"
    raise NotFoundError(msg)

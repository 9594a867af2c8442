"""Twin routes: the tree, live state and history of one twin."""

from __future__ import annotations

import difflib
from typing import Annotated

import numpy as np
from fastapi import APIRouter, Query

from plantwin.api import views
from plantwin.api.auth import Reader
from plantwin.api.context import ApiContext
from plantwin.api.deps import Context
from plantwin.api.errors import NotFoundError
from plantwin.api.params import ParamError, iso_duration, parse_duration, parse_time
from plantwin.api.schemas import (
    HistoryOut,
    TwinDetail,
    TwinNode,
    TwinTree,
)
from plantwin.core.clock import NS_PER_S, iso
from plantwin.core.store import HistoryQuery
from plantwin.model.plant import Twin

router = APIRouter(prefix="/api/v1", tags=["twins"])


def _twin(ctx: ApiContext, twin_id: str) -> Twin:
    twin = ctx.plant.twins.get(twin_id)
    if twin is None:
        close = difflib.get_close_matches(twin_id, list(ctx.plant.twins), n=3)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        msg = f"no twin '{twin_id}'{hint} (GET /api/v1/twins lists them)"
        raise NotFoundError(msg)
    return twin


@router.get("/twins", response_model=TwinTree, summary="The plant's twin tree")
async def twin_tree(ctx: Context, _: Reader) -> TwinTree:
    def node(twin: Twin) -> TwinNode:
        status = ctx.twin.states.status[twin.id]
        return TwinNode(
            id=twin.id,
            name=twin.name,
            kind=twin.kind.value,
            type=twin.type,
            state=status.state.name if status.state else None,
            category=status.rollup.value if status.rollup else None,
            children=[node(ctx.plant.twins[c]) for c in twin.children],
        )

    return TwinTree(
        plant=ctx.plant.name,
        twins=len(ctx.plant.twins),
        signals=len(ctx.plant.signals),
        roots=[node(t) for t in ctx.plant.roots()],
    )


@router.get("/twins/{twin_id}", response_model=TwinDetail, summary="Live state of one twin")
async def twin_detail(twin_id: str, ctx: Context, _: Reader) -> TwinDetail:
    twin = _twin(ctx, twin_id)
    return views.twin_detail(ctx.twin.view(twin.id), ctx.plant)


@router.get(
    "/twins/{twin_id}/history",
    response_model=HistoryOut,
    response_model_exclude_none=True,
    summary="History of one signal, raw or aggregated into buckets",
)
async def twin_history(
    twin_id: str,
    ctx: Context,
    _: Reader,
    signal: Annotated[str, Query(description="signal name of this twin, e.g. vibration")],
    start: Annotated[
        str | None, Query(description="ISO 8601 time with zone, 'now' or '-1h'; default end-1h")
    ] = None,
    end: Annotated[str | None, Query(description="ISO 8601 time with zone or 'now'")] = None,
    every: Annotated[
        str | None, Query(description="bucket width: 10s, 1m, 1h, PT5M; omit for raw rows")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=1_000_000)] = 10_000,
) -> HistoryOut:
    twin = _twin(ctx, twin_id)
    key = f"{twin.id}/{signal}"
    if key not in ctx.plant.signals:
        names = [k.rsplit("/", 1)[1] for k in twin.signals]
        msg = f"twin '{twin.id}' has no signal '{signal}' (signals: {', '.join(names)})"
        raise NotFoundError(msg)
    now = ctx.clock.now_ns()
    end_ns = parse_time(end, "end", now) if end is not None else now
    start_ns = parse_time(start, "start", now) if start is not None else end_ns - 3600 * NS_PER_S
    if end_ns <= start_ns:
        msg = f"start ({iso(start_ns)}) must be before end ({iso(end_ns)})"
        raise ParamError(msg)
    every_ns = parse_duration(every, "every") if every is not None else None
    query = HistoryQuery(
        signal=ctx.catalog.id(key), start=start_ns, end=end_ns, every=every_ns, limit=limit
    )
    history = await ctx.store.history(query)
    times = [iso(int(t)) for t in history.ts.tolist()]
    common = {
        "twin": twin.id,
        "signal": signal,
        "unit": ctx.plant.signals[key].symbol,
        "start": iso(start_ns),
        "end": iso(end_ns),
        "rows": len(history),
        "time": times,
        "quality": history.quality.astype(np.int64).tolist(),
    }
    if every_ns is None:
        return HistoryOut(**common, every=None, value=history.last.tolist())
    return HistoryOut(
        **common,
        every=iso_duration(every_ns),
        min=history.min.tolist(),
        max=history.max.tolist(),
        mean=history.mean.tolist(),
        last=history.last.tolist(),
        count=history.count.tolist(),
    )

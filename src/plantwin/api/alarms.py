"""Alarm routes: the live alarm list, its history, operator actions; and the rules behind them."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query

from plantwin.api.auth import Engineer, Operator, Reader
from plantwin.api.deps import Context
from plantwin.api.errors import ConflictError, NotFoundError
from plantwin.api.params import ParamError, parse_duration, parse_time
from plantwin.api.schemas import (
    AlarmAction,
    AlarmEventOut,
    AlarmGroupOut,
    AlarmHistoryOut,
    AlarmListOut,
    AlarmOut,
    FloodOut,
    RuleListOut,
    RuleOut,
    ShelveAction,
)
from plantwin.api.twins import _twin
from plantwin.core.auth import Principal
from plantwin.core.clock import NS_PER_S, iso
from plantwin.core.records import AlarmEvent, AlarmState
from plantwin.core.store import RecordQuery
from plantwin.model.schema import Priority
from plantwin.processing.alarms import (
    PRIORITY_RANK,
    AlarmActionError,
    AlarmPoint,
    UnknownAlarmError,
)
from plantwin.processing.processor import RuleProcessor
from plantwin.store.rules import in_twin

router = APIRouter(prefix="/api/v1", tags=["alarms"])

StateName = Literal[
    "normal",
    "unacknowledged",
    "acknowledged",
    "rtn_unacknowledged",
    "latched",
    "shelved",
    "suppressed",
    "out_of_service",
]
PriorityName = Literal["low", "medium", "high", "critical"]
ONE_ALARM_SCAN = 100_000  # events of one twin read to answer a history query for one alarm


def _rules(ctx: Context) -> RuleProcessor:
    if ctx.rules is None:
        raise NotFoundError("rules and alarms are not running in this process")
    return ctx.rules


def _out(point: AlarmPoint) -> AlarmOut:
    rule = point.rule
    return AlarmOut(
        id=point.id,
        twin=rule.twin,
        rule=rule.name,
        kind=rule.kind.value,
        priority=rule.priority.value,
        state=point.state.value,
        active=point.active,
        acknowledged=point.acked,
        annunciated=point.annunciated,
        first_out=point.first_out,
        since=iso(point.since) if point.since is not None else None,
        changed=iso(point.changed) if point.changed is not None else None,
        shelved_until=iso(point.shelved_until) if point.shelved_until is not None else None,
        value=point.value,
        unit=rule.unit,
        message=point.message,
    )


@router.get("/alarms", response_model=AlarmListOut, summary="Alarms now (not normal)")
async def alarm_list(
    ctx: Context,
    _: Reader,
    state: Annotated[list[StateName] | None, Query(description="one or more states")] = None,
    priority: Annotated[list[PriorityName] | None, Query()] = None,
    twin: Annotated[str | None, Query(description="a twin and everything below it")] = None,
    start: Annotated[str | None, Query(description="activated at or after")] = None,
    end: Annotated[str | None, Query(description="activated before")] = None,
    hidden: Annotated[
        bool, Query(description="include shelved, suppressed, out-of-service and flood-held")
    ] = False,
    group: Annotated[Literal["rule"] | None, Query(description="group rows by rule")] = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 500,
) -> AlarmListOut:
    rules = _rules(ctx)
    if twin is not None:
        _twin(ctx, twin)
    now = ctx.clock.now_ns()
    t0 = parse_time(start, "start", now) if start is not None else None
    t1 = parse_time(end, "end", now) if end is not None else None
    wanted = set(state or ())
    chosen: list[AlarmPoint] = []
    for point in rules.board.points.values():
        current = point.state
        if wanted:
            if current.value not in wanted:
                continue
        elif current is AlarmState.NORMAL or not (hidden or point.visible):
            continue
        if priority and point.rule.priority.value not in priority:
            continue
        if twin is not None and not in_twin(point.rule.twin, twin):
            continue
        since = point.since if point.since is not None else point.changed
        if t0 is not None and (since is None or since < t0):
            continue
        if t1 is not None and (since is None or since >= t1):
            continue
        chosen.append(point)
    # Highest priority first, then unacknowledged before acknowledged, then newest first.
    chosen.sort(
        key=lambda p: (-PRIORITY_RANK[p.rule.priority], p.acked, -(p.since or p.changed or 0))
    )
    return AlarmListOut(
        alarms=[_out(p) for p in chosen[:limit]],
        total=len(chosen),
        counts=dict(rules.board.counts()),
        floods=[FloodOut(site=s, since=iso(t)) for s, t in rules.board.flood_since.items()],
        groups=_groups(chosen) if group == "rule" else None,
    )


def _groups(points: list[AlarmPoint]) -> list[AlarmGroupOut]:
    by_rule: dict[str, list[AlarmPoint]] = {}
    for point in points:
        by_rule.setdefault(point.rule.name, []).append(point)
    out: list[AlarmGroupOut] = []
    for name, members in by_rule.items():
        starts = [p.since for p in members if p.since is not None]
        firsts = [p for p in members if p.first_out and p.active]
        firsts.sort(key=lambda p: p.since or 0)
        out.append(
            AlarmGroupOut(
                rule=name,
                priority=max(
                    (p.rule.priority for p in members), key=PRIORITY_RANK.__getitem__
                ).value,
                count=len(members),
                first=iso(min(starts)) if starts else None,
                first_out=firsts[0].id if firsts else None,
                twins=sorted(p.rule.twin for p in members),
            )
        )
    out.sort(key=lambda g: (-PRIORITY_RANK[Priority(g.priority)], -g.count))
    return out


@router.get(
    "/alarms/history", response_model=AlarmHistoryOut, summary="Alarm transitions, newest first"
)
async def alarm_history(
    ctx: Context,
    _: Reader,
    twin: Annotated[str | None, Query()] = None,
    alarm: Annotated[str | None, Query(description="one alarm id")] = None,
    start: Annotated[str, Query()] = "-24h",
    end: Annotated[str, Query()] = "now",
    limit: Annotated[int, Query(ge=1, le=100_000)] = 1000,
) -> AlarmHistoryOut:
    now = ctx.clock.now_ns()
    t0, t1 = parse_time(start, "start", now), parse_time(end, "end", now)
    if t1 <= t0:
        raise ParamError(f"end ({end}) must be after start ({start})")
    scope = twin
    if alarm is not None:
        owner = alarm.split(":", 1)[0]
        scope = owner
    if scope is not None:
        _twin(ctx, scope)
    # One alarm: read its twin's own events (few alarms per twin) with a wide cap, then keep
    # the alarm's, so a chattering neighbour cannot push them past the limit.
    query = RecordQuery(
        kind=AlarmEvent,
        twin=scope,
        exact=alarm is not None,
        start=t0,
        end=t1 + 1,
        limit=limit if alarm is None else max(limit, ONE_ALARM_SCAN),
    )
    events = [r for r in await ctx.store.records(query) if isinstance(r, AlarmEvent)]
    if alarm is not None:
        events = [e for e in events if e.alarm == alarm][:limit]
    return AlarmHistoryOut(
        events=[
            AlarmEventOut(
                time=iso(e.ts),
                alarm=e.alarm,
                twin=e.twin,
                action=e.action,
                state=e.state.value,
                previous=e.previous.value,
                priority=e.priority,
                active=e.active,
                acknowledged=e.acked,
                first_out=e.first_out,
                annunciated=e.annunciated,
                value=e.value,
                message=e.message,
                user=e.user or None,
                reason=e.reason or None,
            )
            for e in events
        ]
    )


@router.get("/alarms/{alarm_id}", response_model=AlarmOut, summary="One alarm now")
async def alarm_detail(alarm_id: str, ctx: Context, _: Reader) -> AlarmOut:
    rules = _rules(ctx)
    point = rules.board.points.get(alarm_id)
    if point is None:
        raise NotFoundError(f"no alarm '{alarm_id}' (ids are '<twin id>:<rule name>')")
    return _out(point)


def _act(ctx: Context, who: Principal, alarm_id: str, action: str, body: AlarmAction) -> AlarmOut:
    """Do an operator action; the audit names the authenticated user."""
    rules = _rules(ctx)
    board, now, user = rules.board, ctx.clock.now_ns(), who.user
    try:
        if action == "ack":
            event = board.ack(alarm_id, now, user, body.reason)
        elif action == "reset":
            event = board.reset(alarm_id, now, user, body.reason)
        elif action == "unshelve":
            event = board.unshelve(alarm_id, now, user, body.reason)
        elif action == "out-of-service":
            event = board.remove_from_service(alarm_id, now, user, body.reason)
        elif action == "in-service":
            event = board.return_to_service(alarm_id, now, user, body.reason)
        else:
            assert isinstance(body, ShelveAction)
            duration = parse_duration(body.duration, "duration")
            event = board.shelve(
                alarm_id, now, duration / NS_PER_S, user, body.reason, one_shot=body.one_shot
            )
    except UnknownAlarmError as err:
        raise NotFoundError(str(err)) from err
    except AlarmActionError as err:
        raise ConflictError(str(err)) from err
    rules.submit(event)
    return _out(board.points[alarm_id])


_ACTION_RESPONSES: dict[int | str, dict[str, str]] = {
    409: {"description": "the alarm's state does not allow the action"}
}


@router.post(
    "/alarms/{alarm_id}/ack",
    response_model=AlarmOut,
    responses=_ACTION_RESPONSES,
    summary="Acknowledge an alarm",
)
async def alarm_ack(
    alarm_id: str, ctx: Context, who: Operator, body: AlarmAction | None = None
) -> AlarmOut:
    return _act(ctx, who, alarm_id, "ack", body or AlarmAction())


@router.post(
    "/alarms/{alarm_id}/shelve",
    response_model=AlarmOut,
    responses=_ACTION_RESPONSES,
    summary="Shelve an alarm for a limited time",
)
async def alarm_shelve(alarm_id: str, ctx: Context, who: Operator, body: ShelveAction) -> AlarmOut:
    return _act(ctx, who, alarm_id, "shelve", body)


@router.post(
    "/alarms/{alarm_id}/unshelve",
    response_model=AlarmOut,
    responses=_ACTION_RESPONSES,
    summary="Unshelve an alarm",
)
async def alarm_unshelve(
    alarm_id: str, ctx: Context, who: Operator, body: AlarmAction | None = None
) -> AlarmOut:
    return _act(ctx, who, alarm_id, "unshelve", body or AlarmAction())


@router.post(
    "/alarms/{alarm_id}/reset",
    response_model=AlarmOut,
    responses=_ACTION_RESPONSES,
    summary="Reset a latched alarm",
)
async def alarm_reset(
    alarm_id: str, ctx: Context, who: Operator, body: AlarmAction | None = None
) -> AlarmOut:
    return _act(ctx, who, alarm_id, "reset", body or AlarmAction())


@router.post(
    "/alarms/{alarm_id}/out-of-service",
    response_model=AlarmOut,
    responses=_ACTION_RESPONSES,
    summary="Take an alarm out of service (needs a reason)",
)
async def alarm_out_of_service(
    alarm_id: str, ctx: Context, who: Engineer, body: AlarmAction
) -> AlarmOut:
    return _act(ctx, who, alarm_id, "out-of-service", body)


@router.post(
    "/alarms/{alarm_id}/in-service",
    response_model=AlarmOut,
    responses=_ACTION_RESPONSES,
    summary="Return an alarm to service",
)
async def alarm_in_service(
    alarm_id: str, ctx: Context, who: Engineer, body: AlarmAction | None = None
) -> AlarmOut:
    return _act(ctx, who, alarm_id, "in-service", body or AlarmAction())


@router.get("/rules", response_model=RuleListOut, summary="Rules and their conditions now")
async def rule_list(
    ctx: Context,
    _: Reader,
    twin: Annotated[str | None, Query(description="a twin and below")] = None,
) -> RuleListOut:
    rules = _rules(ctx)
    if twin is not None:
        _twin(ctx, twin)
    engine = rules.engine
    return RuleListOut(
        rules=[
            RuleOut(
                id=rule.id,
                twin=rule.twin,
                name=rule.name,
                kind=rule.kind.value,
                priority=rule.priority.value,
                alarm=rule.alarm,
                signal=rule.signal,
                above=rule.above,
                below=rule.below,
                unit=rule.unit,
                active=bool(engine.active[i]),
                description=rule.description,
            )
            for i, rule in enumerate(engine.rules)
            if twin is None or in_twin(rule.twin, twin)
        ]
    )

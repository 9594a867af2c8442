"""Command routes: send a command, approve or reject a critical one, list the audit trail,
and each twin's desired vs reported values."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, FastAPI, Query, Request
from fastapi.responses import JSONResponse

from plantwin.api.auth import Operator, Reader
from plantwin.api.command_schemas import (
    ApprovalRequest,
    CommandEventOut,
    CommandRequest,
    DesiredListOut,
    DesiredOut,
    IssuedCommandListOut,
    IssuedCommandOut,
)
from plantwin.api.deps import Context
from plantwin.api.errors import NotFoundError, error_response
from plantwin.api.params import ParamError, parse_time
from plantwin.api.twins import _twin
from plantwin.core.clock import iso
from plantwin.core.records import CommandStatus
from plantwin.processing.commands import (
    ApprovalError,
    Command,
    CommandRejectedError,
    CommandService,
    CommandStateError,
    NotAllowedError,
    ParameterError,
    UnknownCommandError,
)
from plantwin.store.rules import in_twin

router = APIRouter(prefix="/api/v1", tags=["commands"])

StatusName = Literal[
    "pending_approval", "accepted", "sent", "acknowledged", "rejected", "failed", "timed_out"
]

_RESPONSES: dict[int | str, dict[str, str]] = {
    403: {"description": "role too low, or the requester approving their own command"},
    409: {"description": "refused by the twin's state or an interlock, or not pending"},
}


def _service(ctx: Context) -> CommandService:
    if ctx.commands is None:
        raise NotFoundError("commands are not running in this process")
    return ctx.commands


def _out(cmd: Command) -> IssuedCommandOut:
    approvals = [
        e.user
        for e in cmd.events
        if e.status is CommandStatus.ACCEPTED and e.previous is CommandStatus.PENDING_APPROVAL
    ]
    last = cmd.events[-1]
    return IssuedCommandOut(
        id=cmd.id,
        twin=cmd.twin,
        command=cmd.command,
        parameters=cmd.parameters,
        status=cmd.status.value,
        critical=cmd.critical,
        requested=iso(cmd.requested),
        requested_by=cmd.requested_by,
        reason=cmd.reason or None,
        approved_by=approvals[0] if approvals else None,
        desired=cmd.target,
        reported=cmd.reported,
        message=last.message or None,
        events=[
            CommandEventOut(
                time=iso(e.ts),
                status=e.status.value,
                previous=None if e.previous is None else e.previous.value,
                user=e.user or None,
                reason=e.reason or None,
                message=e.message or None,
            )
            for e in cmd.events
        ],
    )


@router.post(
    "/commands",
    response_model=IssuedCommandOut,
    status_code=202,
    responses=_RESPONSES,
    summary="Send a command to a machine (critical ones wait for a second user's approval)",
)
async def command_send(body: CommandRequest, ctx: Context, who: Operator) -> IssuedCommandOut:
    service = _service(ctx)
    cmd = await service.request(
        twin=body.twin,
        command=body.command,
        parameters=body.parameters,
        user=who.user,
        reason=body.reason,
    )
    return _out(cmd)


@router.get("/commands", response_model=IssuedCommandListOut, summary="Commands, newest first")
async def command_list(
    ctx: Context,
    _: Reader,
    twin: Annotated[str | None, Query(description="a twin and everything below it")] = None,
    status: Annotated[list[StatusName] | None, Query(description="current status")] = None,
    start: Annotated[str | None, Query(description="requested at or after")] = None,
    end: Annotated[str | None, Query(description="requested before")] = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 100,
) -> IssuedCommandListOut:
    service = _service(ctx)
    if twin is not None:
        _twin(ctx, twin)
    now = ctx.clock.now_ns()
    t0 = parse_time(start, "start", now) if start is not None else None
    t1 = parse_time(end, "end", now) if end is not None else None
    if t0 is not None and t1 is not None and t1 <= t0:
        raise ParamError(f"end ({end}) must be after start ({start})")
    wanted = set(status or ())
    chosen = [
        (cmd.requested, order, cmd)
        for order, cmd in enumerate(service.commands.values())  # in order of request
        if (twin is None or in_twin(cmd.twin, twin))
        and (not wanted or cmd.status.value in wanted)
        and (t0 is None or cmd.requested >= t0)
        and (t1 is None or cmd.requested < t1)
    ]
    chosen.sort(key=lambda row: row[:2], reverse=True)
    return IssuedCommandListOut(commands=[_out(c) for _, _, c in chosen[:limit]], total=len(chosen))


@router.get("/commands/{command_id}", response_model=IssuedCommandOut, summary="One command")
async def command_detail(command_id: str, ctx: Context, _: Reader) -> IssuedCommandOut:
    cmd = _service(ctx).commands.get(command_id)
    if cmd is None:
        raise NotFoundError(f"no command '{command_id}' (GET /api/v1/commands lists them)")
    return _out(cmd)


@router.post(
    "/commands/{command_id}/approve",
    response_model=IssuedCommandOut,
    responses=_RESPONSES,
    summary="Approve a critical command (by a user other than the requester) and send it",
)
async def command_approve(
    command_id: str, ctx: Context, who: Operator, body: ApprovalRequest | None = None
) -> IssuedCommandOut:
    reason = "" if body is None else body.reason
    cmd = await _service(ctx).approve(command_id, user=who.user, reason=reason)
    return _out(cmd)


@router.post(
    "/commands/{command_id}/reject",
    response_model=IssuedCommandOut,
    responses=_RESPONSES,
    summary="Reject a critical command waiting for approval",
)
async def command_reject(
    command_id: str, ctx: Context, who: Operator, body: ApprovalRequest | None = None
) -> IssuedCommandOut:
    reason = "" if body is None else body.reason
    cmd = await _service(ctx).reject(command_id, user=who.user, reason=reason)
    return _out(cmd)


@router.get(
    "/twins/{twin_id}/desired",
    response_model=DesiredListOut,
    tags=["commands"],
    summary="Desired (commanded) vs reported values of a twin",
)
async def twin_desired(twin_id: str, ctx: Context, _: Reader) -> DesiredListOut:
    _twin(ctx, twin_id)
    service = _service(ctx)
    return DesiredListOut(
        twin=twin_id,
        properties=[
            DesiredOut(
                command=d.command,
                signal=d.signal,
                unit=d.unit,
                desired=d.desired,
                reported=d.reported,
                reported_at=None if d.reported_at is None else iso(d.reported_at),
                in_sync=d.in_sync,
                last_command=d.last_command,
                status=None if d.status is None else d.status.value,
            )
            for d in service.desired(twin_id)
        ],
    )


def install_errors(app: FastAPI) -> None:
    """Command errors as the API's JSON errors; a refusal names the audited command's id."""

    @app.exception_handler(UnknownCommandError)
    async def unknown(_: Request, exc: UnknownCommandError) -> JSONResponse:
        return error_response(404, str(exc))

    @app.exception_handler(ParameterError)
    async def bad_parameter(_: Request, exc: ParameterError) -> JSONResponse:
        return error_response(422, str(exc))

    @app.exception_handler(ApprovalError)
    async def forbidden(_: Request, exc: ApprovalError) -> JSONResponse:
        return error_response(403, str(exc))

    @app.exception_handler(CommandStateError)
    async def not_pending(_: Request, exc: CommandStateError) -> JSONResponse:
        return error_response(409, str(exc))

    @app.exception_handler(NotAllowedError)
    async def refused(_: Request, exc: NotAllowedError) -> JSONResponse:
        if isinstance(exc, CommandRejectedError):
            detail: list[dict[str, object]] = [{"command": exc.command.id, "status": "rejected"}]
            return error_response(409, str(exc), detail)
        return error_response(409, str(exc))

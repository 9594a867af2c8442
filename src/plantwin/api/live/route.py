"""The live WebSocket endpoint and its protocol description (OpenAPI has no WebSockets)."""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from pydantic import ValidationError

from plantwin.api import auth
from plantwin.api.context import ApiContext
from plantwin.api.live.hub import LiveHub
from plantwin.api.live.protocol import PROTOCOL
from plantwin.api.live.schemas import AuthMessage, LiveProtocolOut, SubscribeMessage
from plantwin.api.live.selection import LiveRequestError
from plantwin.api.live.session import LiveSession, SlowClientError
from plantwin.core.auth import Permission, Principal
from plantwin.core.errors import AuthError

router = APIRouter(prefix="/api/v1", tags=["live"])

FIRST_MESSAGE_S = 10.0  # how long a client may connect without saying what it wants
RECHECK_S = 5.0  # an open connection's token is checked again this often (revoked, expired)
CLOSE_NOT_RUNNING = 4503
CLOSE_UNAUTHORIZED = 4401
CLOSE_FORBIDDEN = 4403
CLOSE_TOO_SLOW = 4408
CLOSE_BAD_REQUEST = 4400


async def authenticate(ctx: ApiContext, token: str | None) -> Principal:
    """The reader behind ``token`` (header, ``?access_token=``/``?token=`` or a first ``auth``
    message); PermissionError (closing with 4401, or 4403 for a role too low) otherwise."""
    try:
        return await auth.authenticate(ctx, token, Permission.READ)
    except auth.ForbiddenError as err:
        raise RoleTooLowError(str(err)) from err
    except AuthError as err:
        raise PermissionError(str(err)) from err


class RoleTooLowError(PermissionError):
    """The token is good but its role may not read (closed with 4403)."""


@router.get(
    "/live/protocol",
    response_model=LiveProtocolOut,
    summary="The live WebSocket protocol (ws://HOST/api/v1/live), one example per message",
)
async def live_protocol() -> LiveProtocolOut:
    return PROTOCOL


@router.websocket("/live")
async def live(websocket: WebSocket) -> None:
    ctx: ApiContext = websocket.app.state.context
    await websocket.accept()
    hub = ctx.live
    if hub is None:
        await websocket.close(CLOSE_NOT_RUNNING, "the live API is not running in this process")
        return
    try:
        first = await asyncio.wait_for(websocket.receive_text(), FIRST_MESSAGE_S)
    except TimeoutError:
        await websocket.close(CLOSE_BAD_REQUEST, f"no subscribe message in {FIRST_MESSAGE_S:g} s")
        return
    except WebSocketDisconnect:
        return
    token = auth.token_of(websocket, query=True)
    subscribe: str | None = first
    message = _parse(first)
    if isinstance(message, dict) and "auth" in message:
        try:
            token = AuthMessage.model_validate(message).auth.get("token", token)
        except ValidationError as err:
            await websocket.close(CLOSE_BAD_REQUEST, _reason(err)[:120])
            return
        subscribe = None  # the subscription comes next
    try:
        user = await authenticate(ctx, token)
    except PermissionError as err:
        code = CLOSE_FORBIDDEN if isinstance(err, RoleTooLowError) else CLOSE_UNAUTHORIZED
        await websocket.close(code, str(err).encode()[:120].decode(errors="ignore"))
        return
    await _serve(websocket, ctx, hub, subscribe, user, token)


async def _serve(
    websocket: WebSocket,
    ctx: ApiContext,
    hub: LiveHub,
    first: str | None,
    user: object | None,
    token: str | None,
) -> None:
    session = LiveSession(ctx, hub, websocket.send_text, user=user)
    if first is not None:
        _take(session, first)
    sender = asyncio.ensure_future(session.run())
    receiver = asyncio.ensure_future(_receive(websocket, session))
    guard = asyncio.ensure_future(_still_allowed(ctx, token))
    try:
        done, _ = await asyncio.wait({sender, receiver, guard}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (sender, receiver, guard):
            task.cancel()
        await asyncio.gather(sender, receiver, guard, return_exceptions=True)
    if guard in done and not guard.cancelled() and guard.exception() is None:
        refused = guard.result()
        code = CLOSE_FORBIDDEN if isinstance(refused, RoleTooLowError) else CLOSE_UNAUTHORIZED
        with contextlib.suppress(Exception):
            await asyncio.wait_for(
                websocket.close(code, str(refused).encode()[:120].decode(errors="ignore")), 1.0
            )
        return
    if sender in done and not sender.cancelled():
        error = sender.exception()
        if isinstance(error, SlowClientError):
            with contextlib.suppress(Exception):
                await asyncio.wait_for(websocket.close(CLOSE_TOO_SLOW, str(error)[:120]), 1.0)
            return
        if error is not None and not _is_disconnect(error):
            raise error
    if hub.closed:  # the server is stopping
        with contextlib.suppress(Exception):
            await asyncio.wait_for(websocket.close(1001, "server stopping"), 1.0)


async def _still_allowed(ctx: ApiContext, token: str | None) -> PermissionError:
    """Returns (ending the connection) once the token is revoked, expired or lost its role."""
    while True:
        await asyncio.sleep(RECHECK_S)
        try:
            await authenticate(ctx, token)
        except PermissionError as err:
            return err


async def _receive(websocket: WebSocket, session: LiveSession) -> None:
    with contextlib.suppress(WebSocketDisconnect):
        while True:
            _take(session, await websocket.receive_text())


def _take(session: LiveSession, text: str) -> None:
    """Apply one client message; a wrong one is answered with an error and changes nothing."""
    message = _parse(text)
    if message is None:
        session.tell(_error("message", "not a JSON object"))
        return
    try:
        session.subscribe(SubscribeMessage.model_validate(message))
    except ValidationError as err:
        first = err.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "message"
        session.tell(_error(where, first["msg"]))
    except LiveRequestError as err:
        session.tell(_error(err.where, err.message))


def _parse(text: str) -> dict[str, Any] | None:
    try:
        message = json.loads(text)
    except ValueError:
        return None
    return message if isinstance(message, dict) else None


def _error(where: str, message: str) -> dict[str, Any]:
    return {"type": "error", "where": where, "message": message}


def _reason(err: ValidationError) -> str:
    first = err.errors()[0]
    return f"{'.'.join(str(p) for p in first['loc'])}: {first['msg']}"


def _is_disconnect(error: BaseException) -> bool:
    # uvicorn raises its own ClientDisconnected (an OSError) for a send after the close.
    return isinstance(error, WebSocketDisconnect | OSError)

"""Access control of the API: bearer tokens to principals, one permission per route.

Every route but the public ones (:data:`PUBLIC_PATHS`) takes one of the principal
dependencies below (``Reader``, ``Operator``, ``Engineer``, ``Admin``); the route gets the
authenticated :class:`~plantwin.core.auth.Principal` and uses its ``user`` for audit fields.
A missing, unknown, expired or revoked token is answered 401, a role without the permission
403, both with a ``WWW-Authenticate: Bearer`` challenge (RFC 6750).

The WebSocket (and anything else not routed through FastAPI's dependencies) calls
:func:`authenticate` with the token string, or :func:`authorize_websocket`.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, WebSocket
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.requests import HTTPConnection

from plantwin.api.context import ApiContext
from plantwin.api.deps import Context
from plantwin.core.auth import ROLE_PERMISSIONS, Permission, Principal
from plantwin.core.errors import AuthError, PlantwinError

REALM = "plantwin"
# Paths served without a token: liveness, the API description (and the live WebSocket's
# protocol description beside it), the login page and endpoint, the dashboard's files.
PUBLIC_PATHS = frozenset(
    {
        "/api/v1/health",
        "/api/v1/auth/login",
        "/login",
        "/",  # the dashboard: static files without data (api/web.py)
        "/ui/{path:path}",
        "/openapi.json",
        "/docs",
        "/docs/oauth2-redirect",
        "/redoc",
        "/api/v1/live/protocol",
    }
)
WS_UNAUTHENTICATED = 4401  # WebSocket close codes (private range 4000-4999), after HTTP's
WS_FORBIDDEN = 4403


class ForbiddenError(PlantwinError):
    """The token is good but its user's role lacks the permission (HTTP 403)."""

    def __init__(self, message: str, permission: Permission) -> None:
        super().__init__(message)
        self.permission = permission


async def authenticate(ctx: ApiContext, token: str | None, permission: Permission) -> Principal:
    """The principal of bearer ``token`` if its role grants ``permission``.

    Raises:
        AuthError: no token, or an unknown, expired or revoked one, or a disabled user (401).
        ForbiddenError: the user's role does not grant ``permission`` (403).
    """
    principal = await ctx.accounts.authenticate(token or "")
    if not principal.can(permission):
        roles = ", ".join(r.value for r, grants in ROLE_PERMISSIONS.items() if permission in grants)
        msg = (
            f"user {principal.user!r} ({principal.role.value}) may not do this: it needs the "
            f"'{permission.value}' permission ({roles})"
        )
        raise ForbiddenError(msg, permission)
    return principal


def token_of(conn: HTTPConnection, *, query: bool = False) -> str | None:
    """The bearer token of a request: the Authorization header, or with ``query=True`` (for
    browsers' WebSockets, which cannot set headers) the ``access_token`` (RFC 6750) or
    ``token`` query parameter."""
    scheme, _, value = conn.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    if not query:
        return None
    return conn.query_params.get("access_token") or conn.query_params.get("token")


def challenge(error: str | None = None, permission: Permission | None = None) -> str:
    parts = [f'Bearer realm="{REALM}"']
    if error is not None:
        parts.append(f'error="{error}"')
    if permission is not None:
        parts.append(f'scope="{permission.value}"')
    return ", ".join(parts)


_bearer = HTTPBearer(auto_error=False, description="a token from plantwin users token or login")
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]


class Requires:
    """The dependency a route declares: the principal, if the token grants ``permission``."""

    def __init__(self, permission: Permission) -> None:
        self.permission = permission

    async def __call__(self, ctx: Context, credentials: Credentials) -> Principal:
        token = None if credentials is None else credentials.credentials
        try:
            return await authenticate(ctx, token, self.permission)
        except AuthError as err:
            error = None if token is None else "invalid_token"
            headers = {"WWW-Authenticate": challenge(error)}
            raise HTTPException(401, str(err), headers=headers) from err
        except ForbiddenError as err:
            headers = {"WWW-Authenticate": challenge("insufficient_scope", self.permission)}
            raise HTTPException(403, str(err), headers=headers) from err

    def __repr__(self) -> str:
        return f"Requires({self.permission.value})"


Reader = Annotated[Principal, Depends(Requires(Permission.READ))]
Operator = Annotated[Principal, Depends(Requires(Permission.OPERATE))]
Engineer = Annotated[Principal, Depends(Requires(Permission.ENGINEER))]
Admin = Annotated[Principal, Depends(Requires(Permission.ADMIN))]


async def authorize_websocket(websocket: WebSocket, permission: Permission) -> Principal | None:
    """Authenticate a WebSocket before it is used; None if refused (the socket is closed).

    The token comes from the Authorization header or the ``access_token`` query parameter.
    A refused socket is accepted and then closed with code 4401 (no or bad token) or 4403
    (role too low) and the reason, so a browser's ``onclose`` can tell the user why (a close
    before accept reaches a browser only as a failed handshake).
    """
    ctx: ApiContext = websocket.app.state.context
    try:
        return await authenticate(ctx, token_of(websocket, query=True), permission)
    except AuthError as err:
        code, reason = WS_UNAUTHENTICATED, str(err)
    except ForbiddenError as err:
        code, reason = WS_FORBIDDEN, str(err)
    await websocket.accept()
    # A close frame's reason holds at most 123 bytes.
    await websocket.close(code=code, reason=reason.encode()[:120].decode(errors="ignore"))
    return None

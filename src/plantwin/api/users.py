"""Login, the caller's identity, and the admin routes for users and tokens; the login page.

Secrets leave the API once: the answer that issues a token carries it; lists show ids only.
"""

from __future__ import annotations

from importlib.resources import files
from typing import Annotated, Any, Literal

from fastapi import APIRouter, FastAPI, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse

from plantwin.api.auth import Admin, Reader, challenge
from plantwin.api.auth_schemas import (
    IssuedTokenOut,
    LoginRequest,
    MeOut,
    TokenIn,
    TokenListOut,
    TokenOut,
    UserIn,
    UserListOut,
    UserOut,
    UserPatch,
)
from plantwin.api.deps import Context
from plantwin.api.errors import error_response
from plantwin.api.params import parse_duration
from plantwin.api.schemas import ErrorResponse
from plantwin.core.auth import ROLE_PERMISSIONS, Permission, Role, Token, User
from plantwin.core.clock import iso
from plantwin.core.errors import AccountError, AuthError
from plantwin.processing.accounts import (
    AccountExistsError,
    Accounts,
    IssuedToken,
    UnknownAccountError,
)

router = APIRouter(prefix="/api/v1", tags=["access"])
page = APIRouter()
MAX_LOGIN_NS = 30 * 86_400 * 10**9  # a login token lives at most 30 days
Responses = dict[int | str, dict[str, Any]]
_NO_USER: Responses = {404: {"model": ErrorResponse, "description": "no such user or token"}}
_REFUSED: Responses = {
    422: {"model": ErrorResponse, "description": "bad name or password, last admin"}
}


def _user(user: User) -> UserOut:
    return UserOut(
        name=user.name,
        role=user.role.value,
        created=iso(user.created),
        disabled=user.disabled,
        password_login=bool(user.password),
    )


def _token(token: Token, now: int) -> TokenOut:
    status: Literal["active", "expired", "revoked"] = "active"
    if token.revoked is not None:
        status = "revoked"
    elif token.expired(now):
        status = "expired"
    return TokenOut(
        id=token.id,
        user=token.user,
        label=token.label,
        created=iso(token.created),
        expires=None if token.expires is None else iso(token.expires),
        revoked=None if token.revoked is None else iso(token.revoked),
        status=status,
    )


async def _issued(accounts: Accounts, issued: IssuedToken) -> IssuedTokenOut:
    user = await accounts.user(issued.token.user)
    expires = issued.token.expires
    return IssuedTokenOut(
        token=issued.secret,
        id=issued.token.id,
        user=user.name,
        role=user.role.value,
        expires=None if expires is None else iso(expires),
    )


@router.post(
    "/auth/login",
    response_model=IssuedTokenOut,
    responses={401: {"model": ErrorResponse, "description": "wrong user name or password"}},
    summary="Log in with a password; answers a bearer token (public)",
)
async def login(body: LoginRequest, ctx: Context) -> IssuedTokenOut:
    lifetime = min(parse_duration(body.expires, "expires"), MAX_LOGIN_NS)
    issued = await ctx.accounts.login(body.user, body.password, expires_in=lifetime)
    return await _issued(ctx.accounts, issued)


@router.get("/auth/me", response_model=MeOut, summary="Who the token belongs to")
async def me(who: Reader) -> MeOut:
    granted = ROLE_PERMISSIONS[who.role]
    return MeOut(
        user=who.user,
        role=who.role.value,
        permissions=[p.value for p in Permission if p in granted],
        token=who.token,
    )


@router.post("/auth/logout", response_model=TokenOut, summary="Revoke the token of this request")
async def logout(ctx: Context, who: Reader) -> TokenOut:
    return _token(await ctx.accounts.revoke(who.token), ctx.accounts.now())


@router.get("/users", response_model=UserListOut, summary="Every user (admin)")
async def user_list(ctx: Context, _: Admin) -> UserListOut:
    return UserListOut(users=[_user(u) for u in await ctx.accounts.users()])


@router.post(
    "/users",
    response_model=UserOut,
    status_code=201,
    responses={409: {"model": ErrorResponse, "description": "the name is taken"}, **_REFUSED},
    summary="Add a user (admin)",
)
async def user_add(body: UserIn, ctx: Context, _: Admin) -> UserOut:
    return _user(await ctx.accounts.add_user(body.name, Role(body.role), body.password))


@router.patch(
    "/users/{name}",
    response_model=UserOut,
    responses={**_NO_USER, **_REFUSED},
    summary="Change a user's role, password or state (admin)",
)
async def user_change(name: str, body: UserPatch, ctx: Context, _: Admin) -> UserOut:
    user = await ctx.accounts.update_user(
        name,
        role=None if body.role is None else Role(body.role),
        password=body.password,
        disabled=body.disabled,
    )
    return _user(user)


@router.post(
    "/users/{name}/tokens",
    response_model=IssuedTokenOut,
    status_code=201,
    responses=_NO_USER,
    summary="Issue a bearer token for a user (admin); the answer shows it once",
)
async def token_issue(
    name: str, ctx: Context, _: Admin, body: TokenIn | None = None
) -> IssuedTokenOut:
    body = body or TokenIn()
    lifetime = None if body.expires == "never" else parse_duration(body.expires, "expires")
    issued = await ctx.accounts.issue(name, expires_in=lifetime, label=body.label)
    return await _issued(ctx.accounts, issued)


@router.get("/tokens", response_model=TokenListOut, summary="Tokens, without secrets (admin)")
async def token_list(
    ctx: Context,
    _: Admin,
    user: Annotated[str | None, Query(description="only this user's tokens")] = None,
) -> TokenListOut:
    now = ctx.accounts.now()
    return TokenListOut(tokens=[_token(t, now) for t in await ctx.accounts.tokens(user)])


@router.post(
    "/tokens/{token_id}/revoke",
    response_model=TokenOut,
    responses=_NO_USER,
    summary="Revoke a token (admin)",
)
async def token_revoke(token_id: str, ctx: Context, _: Admin) -> TokenOut:
    return _token(await ctx.accounts.revoke(token_id), ctx.accounts.now())


@page.get("/login", response_class=HTMLResponse, include_in_schema=False)
async def login_page() -> HTMLResponse:
    html = (files("plantwin.web") / "login.html").read_text(encoding="utf-8")
    return HTMLResponse(html, headers={"Cache-Control": "no-store"})


def install_errors(app: FastAPI) -> None:
    @app.exception_handler(AuthError)
    async def refused(_: Request, exc: AuthError) -> JSONResponse:
        return error_response(401, str(exc), headers={"WWW-Authenticate": challenge()})

    @app.exception_handler(AccountError)
    async def account(_: Request, exc: AccountError) -> JSONResponse:
        status = (
            404
            if isinstance(exc, UnknownAccountError)
            else 409
            if isinstance(exc, AccountExistsError)
            else 422
        )
        return error_response(status, str(exc))

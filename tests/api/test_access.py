"""Access control over every route: each declares one permission and refuses a missing,
malformed, unknown, expired or revoked token (401) and a role too low for it (403)."""

from __future__ import annotations

import re
import warnings
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

import httpx
import pytest
from fastapi import FastAPI, WebSocket, WebSocketDisconnect
from fastapi.dependencies.models import Dependant
from fastapi.routing import iter_route_contexts

from plantwin.api.app import create_app
from plantwin.api.auth import PUBLIC_PATHS, Requires, authorize_websocket
from plantwin.api.context import ApiContext
from plantwin.core import ManualClock
from plantwin.core.auth import ROLE_PERMISSIONS, Permission, Role
from plantwin.model.catalog import SignalCatalog
from plantwin.model.plant import Plant
from plantwin.processing.accounts import Accounts
from plantwin.store import MemoryStore
from plantwin.twin import TwinState
from tests.helpers import T0, TEST_SCRYPT

HOUR = 3600


@dataclass
class Rig:
    app: FastAPI
    http: httpx.AsyncClient
    accounts: Accounts
    clock: ManualClock
    tokens: dict[str, str]  # what -> bearer token


@pytest.fixture
async def rig(example_plant: Plant) -> AsyncIterator[Rig]:
    async with MemoryStore() as store:
        catalog = SignalCatalog(
            example_plant, await store.register_signals(list(example_plant.signals))
        )
        clock = ManualClock(T0)
        accounts = Accounts(store, clock=clock, cost=TEST_SCRYPT)
        tokens: dict[str, str] = {}
        for role in Role:
            await accounts.add_user(role.value, role)
            tokens[role.value] = (await accounts.issue(role.value)).secret
        tokens["expired"] = (await accounts.issue("admin", expires_in=HOUR * 10**9)).secret
        revoked = await accounts.issue("admin")
        await accounts.revoke(revoked.token.id)
        tokens["revoked"] = revoked.secret
        await accounts.add_user("gone", Role.ADMIN)
        tokens["disabled"] = (await accounts.issue("gone")).secret
        await accounts.update_user("gone", disabled=True)
        clock.advance(2 * HOUR)  # past the expiry of "expired"
        context = ApiContext(
            plant=example_plant,
            catalog=catalog,
            twin=TwinState(example_plant, catalog),
            store=store,
            clock=clock,
            health=lambda: {"status": "ok"},
            accounts=accounts,
        )
        app = create_app(context)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            yield Rig(app, http, accounts, clock, tokens)


def _requires(dependant: Dependant) -> Iterator[Requires]:
    for dep in dependant.dependencies:
        if isinstance(dep.call, Requires):
            yield dep.call
        yield from _requires(dep)


def _routes(app: FastAPI) -> list[tuple[str, str, Permission | None]]:
    """(method, path, permission) of every route; permission None for a public one.

    FastAPI keeps included routers as such; ``iter_route_contexts`` yields their routes with
    the prefix applied, as OpenAPI and the request router see them.
    """
    out: list[tuple[str, str, Permission | None]] = []
    for route in iter_route_contexts(app.routes):
        path = route.path
        assert path is not None
        dependant = getattr(route, "dependant", None)
        if route.methods is None and isinstance(dependant, Dependant):
            continue  # a WebSocket: it authenticates inside (authorize_websocket), tested below
        if not isinstance(dependant, Dependant):  # /openapi.json, /docs, /redoc
            assert path in PUBLIC_PATHS, f"{path} is not an API route and not public"
            continue
        declared = {r.permission for r in _requires(dependant)}
        for method in sorted(route.methods or ()):
            if path in PUBLIC_PATHS:
                assert not declared, f"public {method} {path} declares {declared}"
                out.append((method, path, None))
            else:
                assert len(declared) == 1, f"{method} {path} declares {declared or 'nothing'}"
                out.append((method, path, next(iter(declared))))
    return out


def _url(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "x", path)


def _below(permission: Permission) -> Role | None:
    """The highest role that lacks ``permission``."""
    lacking = [r for r in Role if permission not in ROLE_PERMISSIONS[r]]
    return lacking[-1] if lacking else None


async def _call(rig: Rig, method: str, path: str, token: str | None) -> httpx.Response:
    headers = {} if token is None else {"Authorization": f"Bearer {token}"}
    return await rig.http.request(method, _url(path), headers=headers)


def test_every_route_declares_a_permission_or_is_public(rig: Rig) -> None:
    routes = _routes(rig.app)
    public = {path for _, path, p in routes if p is None}
    assert {"/api/v1/health", "/api/v1/auth/login", "/login"} <= public <= PUBLIC_PATHS
    assert len(routes) > 30
    # Writing needs more than reading. The exceptions: logging out (revoking one's own token)
    # and the read-only SQL query, which is a POST only because the SQL is a body.
    reading_posts = {"/api/v1/auth/logout", "/api/v1/query"}
    for method, path, permission in routes:
        if method != "GET" and permission is not None and path not in reading_posts:
            assert permission is not Permission.READ, f"{method} {path} needs only read"


async def test_every_protected_route_refuses_bad_tokens_and_low_roles(rig: Rig) -> None:
    checked = 0
    for method, path, permission in _routes(rig.app):
        if permission is None:
            continue
        where = f"{method} {path}"
        missing = await _call(rig, method, path, None)
        assert missing.status_code == 401, where
        assert missing.headers["WWW-Authenticate"] == 'Bearer realm="plantwin"', where
        assert "no bearer token" in missing.json()["error"]["message"], where
        for what, message in (
            ("not-a-token", "unknown bearer token"),
            ("pwt_" + "A" * 43, "unknown bearer token"),
            ("expired", "expired at 2027-01-15T09:00:00Z"),
            ("revoked", "was revoked at 2027-01-15T08:00:00Z"),
            ("disabled", "user 'gone' is disabled"),
        ):
            refused = await _call(rig, method, path, rig.tokens.get(what, what))
            assert refused.status_code == 401, (where, what)
            assert message in refused.json()["error"]["message"], (where, what)
            challenge = refused.headers["WWW-Authenticate"]
            assert challenge == 'Bearer realm="plantwin", error="invalid_token"', (where, what)
        malformed = await rig.http.request(method, _url(path), headers={"Authorization": "Basic a"})
        assert malformed.status_code == 401, where
        low = _below(permission)
        if low is not None:
            denied = await _call(rig, method, path, rig.tokens[low.value])
            assert denied.status_code == 403, where
            assert denied.headers["WWW-Authenticate"] == (
                f'Bearer realm="plantwin", error="insufficient_scope", scope="{permission.value}"'
            ), where
            assert f"needs the '{permission.value}' permission" in denied.json()["error"]["message"]
        # The lowest role that has the permission gets past access control (a fresh token:
        # logging out revokes the one it is called with).
        enough = next(r for r in Role if permission in ROLE_PERMISSIONS[r])
        fresh = (await rig.accounts.issue(enough.value)).secret
        passed = await _call(rig, method, path, fresh)
        assert passed.status_code not in (401, 403), (where, passed.text)
        checked += 1
    assert checked > 30


async def test_public_routes_need_no_token(rig: Rig) -> None:
    assert (await rig.http.get("/api/v1/health")).status_code == 200
    assert (await rig.http.get("/openapi.json")).status_code == 200
    page = await rig.http.get("/login")
    assert page.status_code == 200
    assert "/api/v1/auth/login" in page.text
    assert "sessionStorage" in page.text


async def test_openapi_declares_the_bearer_scheme(rig: Rig) -> None:
    spec = (await rig.http.get("/openapi.json")).json()
    assert spec["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    twins = spec["paths"]["/api/v1/twins"]["get"]
    assert twins["security"] == [{"HTTPBearer": []}]
    assert "security" not in spec["paths"]["/api/v1/health"]["get"]


def test_a_websocket_authenticates_with_the_same_rules(rig: Rig) -> None:
    """What /api/v1/live does: authorize_websocket before anything is sent."""

    @rig.app.websocket("/test/ws")
    async def probe(websocket: WebSocket) -> None:
        who = await authorize_websocket(websocket, Permission.OPERATE)
        if who is None:
            return
        await websocket.accept()
        await websocket.send_json({"user": who.user, "role": who.role.value})
        await websocket.close()

    with warnings.catch_warnings():  # Starlette would rather see httpx2; httpx still works
        warnings.simplefilter("ignore")
        from starlette.testclient import TestClient  # noqa: PLC0415

    with TestClient(rig.app) as client:
        token = rig.tokens["operator"]
        with client.websocket_connect(f"/test/ws?access_token={token}") as ws:
            assert ws.receive_json() == {"user": "operator", "role": "operator"}
        with client.websocket_connect(f"/test/ws?token={token}") as ws:
            assert ws.receive_json()["user"] == "operator"
        header = {"Authorization": f"Bearer {rig.tokens['engineer']}"}
        with client.websocket_connect("/test/ws", headers=header) as ws:
            assert ws.receive_json()["user"] == "engineer"
        for query, code, reason in (
            ("", 4401, "no bearer token"),
            (f"?access_token={rig.tokens['revoked']}", 4401, "was revoked"),
            (f"?access_token={rig.tokens['expired']}", 4401, "expired at"),
            (f"?access_token={rig.tokens['viewer']}", 4403, "needs the 'operate' permission"),
        ):
            with (
                client.websocket_connect(f"/test/ws{query}") as ws,
                pytest.raises(WebSocketDisconnect) as closed,
            ):
                ws.receive_json()
            assert closed.value.code == code, query
            assert reason in closed.value.reason, query

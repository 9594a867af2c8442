"""Login, me, logout and the admin routes for users and tokens, over HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from plantwin.api.app import create_app
from plantwin.api.context import ApiContext
from plantwin.core import ManualClock
from plantwin.model.catalog import SignalCatalog
from plantwin.model.plant import Plant
from plantwin.store import MemoryStore
from plantwin.twin import TwinState
from tests.helpers import T0, accounts_for, bearer


@pytest.fixture
async def http(example_plant: Plant) -> AsyncIterator[httpx.AsyncClient]:
    async with MemoryStore() as store:
        catalog = SignalCatalog(
            example_plant, await store.register_signals(list(example_plant.signals))
        )
        context = ApiContext(
            plant=example_plant,
            catalog=catalog,
            twin=TwinState(example_plant, catalog),
            store=store,
            clock=ManualClock(T0),
            health=lambda: {"status": "ok"},
            accounts=accounts_for(store),
        )
        transport = httpx.ASGITransport(app=create_app(context))
        headers = await bearer(context.accounts, "root")
        async with httpx.AsyncClient(
            transport=transport, base_url="http://test", headers=headers
        ) as client:
            yield client


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_an_admin_adds_a_user_who_logs_in_and_out(http: httpx.AsyncClient) -> None:
    added = await http.post(
        "/api/v1/users", json={"name": "kim", "role": "operator", "password": "correct horse"}
    )
    assert added.status_code == 201, added.text
    assert added.json()["password_login"] is True
    taken = await http.post("/api/v1/users", json={"name": "kim", "role": "viewer"})
    assert (taken.status_code, taken.json()["error"]["message"]) == (
        409,
        "user 'kim' exists already",
    )
    weak = await http.post("/api/v1/users", json={"name": "lee", "role": "viewer", "password": "x"})
    assert weak.status_code == 422

    login = await http.post(
        "/api/v1/auth/login",
        json={"user": "kim", "password": "correct horse", "expires": "8h"},
        headers={"Authorization": ""},
    )
    assert login.status_code == 200, login.text
    body = login.json()
    assert (body["user"], body["role"]) == ("kim", "operator")
    assert body["token"].startswith("pwt_")
    me = await http.get("/api/v1/auth/me", headers=auth(body["token"]))
    assert me.json() == {
        "user": "kim",
        "role": "operator",
        "permissions": ["read", "operate"],
        "token": body["id"],
    }
    wrong = await http.post("/api/v1/auth/login", json={"user": "kim", "password": "wrong one"})
    assert wrong.status_code == 401
    assert wrong.json()["error"]["message"].startswith("wrong user name or password")
    assert wrong.headers["WWW-Authenticate"].startswith("Bearer")

    out = await http.post("/api/v1/auth/logout", headers=auth(body["token"]))
    assert out.json()["status"] == "revoked"
    assert (await http.get("/api/v1/auth/me", headers=auth(body["token"]))).status_code == 401


async def test_an_admin_issues_lists_and_revokes_tokens(http: httpx.AsyncClient) -> None:
    await http.post("/api/v1/users", json={"name": "gw", "role": "operator"})
    issued = await http.post("/api/v1/users/gw/tokens", json={"expires": "never", "label": "L1"})
    assert issued.status_code == 201, issued.text
    token = issued.json()
    assert token["expires"] is None
    assert (await http.get("/api/v1/auth/me", headers=auth(token["token"]))).status_code == 200
    listed = (await http.get("/api/v1/tokens", params={"user": "gw"})).json()["tokens"]
    assert [(t["id"], t["label"], t["status"]) for t in listed] == [(token["id"], "L1", "active")]
    assert token["token"] not in str(listed)
    revoked = await http.post(f"/api/v1/tokens/{token['id']}/revoke")
    assert (revoked.status_code, revoked.json()["status"]) == (200, "revoked")
    assert (await http.get("/api/v1/auth/me", headers=auth(token["token"]))).status_code == 401
    assert (await http.post("/api/v1/tokens/nope/revoke")).status_code == 404
    assert (await http.post("/api/v1/users/nobody/tokens")).status_code == 404


async def test_role_changes_and_the_last_admin(http: httpx.AsyncClient) -> None:
    await http.post("/api/v1/users", json={"name": "kim", "role": "viewer"})
    kim = (await http.post("/api/v1/users/kim/tokens")).json()["token"]
    denied = await http.post(
        "/api/v1/users", json={"name": "x", "role": "admin"}, headers=auth(kim)
    )
    assert denied.status_code == 403
    changed = await http.patch("/api/v1/users/kim", json={"role": "admin"})
    assert changed.json()["role"] == "admin"
    allowed = await http.post(
        "/api/v1/users", json={"name": "x", "role": "viewer"}, headers=auth(kim)
    )
    assert allowed.status_code == 201  # the new role applies to the same token at once
    await http.patch("/api/v1/users/kim", json={"disabled": True})
    last = await http.patch("/api/v1/users/root", json={"role": "viewer"})
    assert last.status_code == 422
    assert "last active admin" in last.json()["error"]["message"]
    names = [
        (u["name"], u["role"], u["disabled"])
        for u in (await http.get("/api/v1/users")).json()["users"]
    ]
    assert names == [("kim", "admin", True), ("root", "admin", False), ("x", "viewer", False)]

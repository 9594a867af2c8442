"""`plantwin users`: add, token, list, revoke on a store file; secrets are not stored."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from plantwin.core.auth import Role
from plantwin.core.errors import AuthError
from plantwin.processing.accounts import Accounts
from plantwin.store import DuckDBStore
from tests.test_cli import _pythonpath

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def users(store: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "plantwin.cli", "users", *args, "--store", str(store)],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={"COLUMNS": "200", "PATH": "", **_pythonpath()},
    )


async def _principal(store: Path, token: str) -> tuple[str, Role]:
    async with DuckDBStore(path=store) as opened:
        who = await Accounts(opened).authenticate(token)
    return who.user, who.role


async def test_users_add_token_list_revoke(tmp_path: Path) -> None:
    store = tmp_path / "plant.duckdb"
    added = users(
        store, "add", "kim", "--role", "operator", "--password", "-", stdin="correct horse\n"
    )
    assert added.returncode == 0, added.stderr
    assert "added user kim (operator, password login)" in added.stdout
    again = users(store, "add", "kim", "--role", "viewer")
    assert again.returncode == 1
    assert "error: user 'kim' exists already" in again.stderr
    assert users(store, "add", "lee", "--role", "boss").returncode == 2  # not a role

    issued = users(store, "token", "kim", "--expires", "1h", "--label", "hmi")
    assert issued.returncode == 0, issued.stderr
    token = issued.stdout.strip()  # alone on stdout
    assert re.fullmatch(r"pwt_[A-Za-z0-9_-]{43}", token)
    token_id = re.search(r"token (\w+) for kim, expires \S+Z; it is not shown again", issued.stderr)
    assert token_id is not None, issued.stderr
    assert await _principal(store, token) == ("kim", Role.OPERATOR)
    bad = users(store, "token", "kim", "--expires", "soon")
    assert bad.returncode == 2
    assert "--expires='soon' is not a duration" in bad.stderr

    listed = users(store, "list")
    assert listed.returncode == 0, listed.stderr
    row = next(line for line in listed.stdout.splitlines() if token_id[1] in line)
    for cell in ("kim", "operator", "password", "hmi", "active"):
        assert cell in row
    assert token not in listed.stdout

    revoked = users(store, "revoke", token_id[1])
    assert revoked.returncode == 0, revoked.stderr
    assert f"token {token_id[1]} of kim revoked" in revoked.stdout
    with pytest.raises(AuthError, match="was revoked"):
        await _principal(store, token)
    unknown = users(store, "revoke", "nope")
    assert unknown.returncode == 1
    assert "error: no token 'nope'" in unknown.stderr

    # At rest there are only hashes: neither the password nor the token is in the files.
    files = [p for p in tmp_path.iterdir() if p.name.startswith("plant")]  # noqa: ASYNC240
    stored = b"".join(p.read_bytes() for p in files)
    assert b"correct horse" not in stored
    assert token.encode() not in stored

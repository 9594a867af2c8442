"""Accounts: users, tokens (stored only as digests), passwords (scrypt), expiry, revocation."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import time
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from plantwin.core import ManualClock
from plantwin.core.auth import Principal, Role
from plantwin.core.errors import AccountError, AuthError
from plantwin.processing.accounts import (
    AccountExistsError,
    Accounts,
    Scrypt,
    UnknownAccountError,
)
from plantwin.processing.accounts.credentials import hash_password, verify_password
from plantwin.store import MemoryStore
from tests.helpers import T0, TEST_SCRYPT

HOUR_NS = 3600 * 10**9


@pytest.fixture
async def store() -> AsyncIterator[MemoryStore]:
    async with MemoryStore() as opened:
        yield opened


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(T0)


@pytest.fixture
def accounts(store: MemoryStore, clock: ManualClock) -> Accounts:
    return Accounts(store, clock=clock, cost=TEST_SCRYPT)


async def test_a_token_is_stored_only_as_its_sha256(accounts: Accounts, store: MemoryStore) -> None:
    await accounts.add_user("kim", Role.OPERATOR)
    issued = await accounts.issue("kim", label="hmi")
    assert issued.secret.startswith("pwt_")
    assert len(issued.secret) >= 40  # 32 random bytes, base64url
    (stored,) = await store.tokens()
    assert stored.digest == hashlib.sha256(issued.secret.encode()).hexdigest()
    assert issued.secret not in repr(stored)
    assert await accounts.authenticate(issued.secret) == Principal(
        user="kim", role=Role.OPERATOR, token=stored.id
    )


async def test_expiry_and_revocation(accounts: Accounts, clock: ManualClock) -> None:
    await accounts.add_user("kim", Role.VIEWER)
    short = await accounts.issue("kim", expires_in=HOUR_NS)
    other = await accounts.issue("kim")
    assert (await accounts.authenticate(short.secret)).user == "kim"  # now cached
    clock.advance(3600)
    with pytest.raises(AuthError, match=rf"token {short.token.id} expired at 2027-01-15T09:00:00Z"):
        await accounts.authenticate(short.secret)
    assert (await accounts.authenticate(other.secret)).user == "kim"  # cached, too
    await accounts.revoke(other.token.id)
    with pytest.raises(AuthError, match="was revoked at 2027-01-15T09:00:00Z"):
        await accounts.authenticate(other.secret)  # at once, despite the cache
    with pytest.raises(UnknownAccountError, match="no token 'nope'"):
        await accounts.revoke("nope")
    with pytest.raises(AuthError, match="unknown bearer token"):
        await accounts.authenticate("pwt_guess")
    with pytest.raises(AuthError, match="no bearer token"):
        await accounts.authenticate("")


async def test_role_changes_and_disabling_apply_at_once(accounts: Accounts) -> None:
    await accounts.add_user("kim", Role.VIEWER)
    token = (await accounts.issue("kim")).secret
    assert (await accounts.authenticate(token)).role is Role.VIEWER
    await accounts.update_user("kim", role=Role.ENGINEER)
    assert (await accounts.authenticate(token)).role is Role.ENGINEER
    await accounts.update_user("kim", disabled=True)
    with pytest.raises(AuthError, match="user 'kim' is disabled"):
        await accounts.authenticate(token)


async def test_users_are_checked(accounts: Accounts) -> None:
    await accounts.add_user("kim", Role.VIEWER)
    with pytest.raises(AccountExistsError, match="user 'kim' exists already"):
        await accounts.add_user("kim", Role.ADMIN)
    with pytest.raises(AccountError, match="user name 'a b' is not allowed"):
        await accounts.add_user("a b", Role.VIEWER)
    with pytest.raises(AccountError, match="a password needs 8 to 1024 characters, got 3"):
        await accounts.add_user("lee", Role.VIEWER, password="abc")
    with pytest.raises(UnknownAccountError, match="no user 'park'"):
        await accounts.issue("park")
    with pytest.raises(AccountError, match="longer than zero"):
        await accounts.issue("kim", expires_in=0)


async def test_the_last_active_admin_stays(accounts: Accounts) -> None:
    await accounts.add_user("boss", Role.ADMIN)
    with pytest.raises(AccountError, match="'boss' is the last active admin"):
        await accounts.update_user("boss", role=Role.ENGINEER)
    with pytest.raises(AccountError, match="last active admin"):
        await accounts.update_user("boss", disabled=True)
    await accounts.add_user("deputy", Role.ADMIN)
    await accounts.update_user("boss", disabled=True)  # another admin remains
    assert [(u.name, u.disabled) for u in await accounts.users()] == [
        ("boss", True),
        ("deputy", False),
    ]


async def test_login_with_a_password(accounts: Accounts, clock: ManualClock) -> None:
    await accounts.add_user("kim", Role.OPERATOR, password="correct horse")
    await accounts.add_user("bot", Role.OPERATOR)  # tokens only
    issued = await accounts.login("kim", "correct horse", expires_in=8 * HOUR_NS)
    assert issued.token.label == "login"
    assert issued.token.expires == clock.now_ns() + 8 * HOUR_NS
    assert (await accounts.authenticate(issued.secret)).user == "kim"
    # One message for every failure, so the answer does not tell which user names exist.
    for user, password in (("kim", "wrong horse"), ("nobody", "correct horse"), ("bot", "")):
        with pytest.raises(AuthError, match=r"^wrong user name or password"):
            await accounts.login(user, password, expires_in=HOUR_NS)
    await accounts.update_user("kim", disabled=True)
    with pytest.raises(AuthError, match=r"^wrong user name or password"):
        await accounts.login("kim", "correct horse", expires_in=HOUR_NS)


def test_passwords_are_scrypt_hashes_with_their_cost() -> None:
    stored = hash_password("correct horse")  # the real cost (2^15, 8, 3)
    assert stored.startswith("scrypt$32768$8$3$")
    assert "correct horse" not in stored
    assert stored != hash_password("correct horse")  # salted
    assert verify_password("correct horse", stored)
    assert not verify_password("correct horsE", stored)
    cheap = hash_password("x" * 8, TEST_SCRYPT)
    assert cheap.startswith("scrypt$256$8$1$")  # the cost travels with the hash
    assert verify_password("x" * 8, cheap)
    for broken in ("", "scrypt$1$2", "bcrypt$...", "scrypt$a$8$1$AA==$AA=="):
        assert not verify_password("x", broken)


async def test_each_start_gets_its_own_admin_token(accounts: Accounts, store: MemoryStore) -> None:
    first = await accounts.bootstrap_admin(None)
    assert (await accounts.authenticate(first.secret)).role is Role.ADMIN
    second = await accounts.bootstrap_admin(None)
    with pytest.raises(AuthError, match="revoked"):
        await accounts.authenticate(first.secret)  # the previous start's token is void
    given = "a-long-chosen-admin-token-0001"
    third = await accounts.bootstrap_admin(given)
    assert third.secret == given
    assert third.token.label == "admin-token"
    with pytest.raises(AuthError, match="revoked"):
        await accounts.authenticate(second.secret)
    again = await accounts.bootstrap_admin(given)  # the same token on the next start
    assert again.token.id == third.token.id
    assert len(await store.tokens()) == 3
    rotated = await accounts.bootstrap_admin("a-long-chosen-admin-token-0002")  # a new one
    with pytest.raises(AuthError, match="revoked"):
        await accounts.authenticate(given)  # the old given token stops working
    assert (await accounts.authenticate(rotated.secret)).role is Role.ADMIN
    with pytest.raises(AccountError, match=r"--admin-token is token \w+, which was revoked"):
        await accounts.bootstrap_admin(given)
    with pytest.raises(AccountError, match="at least 20 printable characters"):
        await accounts.bootstrap_admin("admin")


async def test_bootstrap_refuses_a_demoted_admin_user(accounts: Accounts) -> None:
    await accounts.add_user("admin", Role.VIEWER)
    with pytest.raises(AccountError, match="'admin' exists but is not an active admin"):
        await accounts.bootstrap_admin(None)


async def test_a_flood_of_logins_leaves_worker_threads_to_the_store(store: MemoryStore) -> None:
    """Password checks are slow on purpose (scrypt) and run in worker threads, which the
    store's writes share: unauthenticated logins must not take them all."""
    loop = asyncio.get_running_loop()
    loop.set_default_executor(ThreadPoolExecutor(max_workers=2))
    accounts = Accounts(store, cost=Scrypt(n=2**15, r=8, p=1))
    await accounts.add_user("ann", Role.VIEWER, password="a good password")
    finished: list[float] = []

    async def wrong_login() -> None:
        with contextlib.suppress(AuthError):
            await accounts.login("ann", "not the password", expires_in=HOUR_NS)
        finished.append(time.monotonic())

    await wrong_login()  # the first one also hashes the dummy password
    finished.clear()
    logins = [asyncio.create_task(wrong_login()) for _ in range(6)]
    for _ in range(10):  # every login gets to its password check
        await asyncio.sleep(0)
    ran_at = await asyncio.to_thread(time.monotonic)  # as a store write would
    await asyncio.gather(*logins)
    assert ran_at < min(finished)  # a thread was free at once, not after a login ended

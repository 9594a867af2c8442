"""Accounts: users, their bearer tokens, and turning a token into a :class:`Principal`.

All state is in the store (``AuthStore``); this service adds the rules: secrets are made
here and only their digests are stored, passwords are hashed with scrypt (in a worker thread,
so a login does not stall the event loop), and a token is refused once expired or revoked or
when its user is disabled.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, replace

from plantwin.core.auth import Principal, Role, Token, User, check_user_name
from plantwin.core.clock import Clock, WallClock, iso
from plantwin.core.errors import AccountError, AuthError
from plantwin.core.store import AuthStore
from plantwin.processing.accounts.credentials import (
    Scrypt,
    check_password,
    hash_password,
    new_token,
    new_token_id,
    token_digest,
    verify_password,
)

ADMIN = "admin"  # the user `plantwin demo` / `plantwin run` hands a token to at start
STARTUP = "startup"  # label of the token a start generates; the next start revokes it
GIVEN = "admin-token"  # label of a token given with --admin-token
MIN_GIVEN_TOKEN = 20  # a chosen token is stored as a fast hash: it must not be guessable
CACHE_S = 10.0  # how long a checked token is trusted without asking the store again
CACHE_MAX = 10_000


class UnknownAccountError(AccountError):
    """No user or token of that name or id (404)."""


class AccountExistsError(AccountError):
    """A user of that name exists already (409)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class IssuedToken:
    token: Token
    secret: str  # the bearer token itself: shown once, never stored


class Accounts:
    """Users and tokens over an ``AuthStore``; times (created, expiry) from ``clock``.

    A token checked once is kept for ``CACHE_S`` seconds, so a busy API does not ask the store
    on every request. Every change made through this object clears that cache at once; only
    changes made by another process on a shared store may take up to ``CACHE_S`` to apply.
    """

    def __init__(
        self, store: AuthStore, *, clock: Clock | None = None, cost: Scrypt | None = None
    ) -> None:
        self._store = store
        self._clock = clock or WallClock()
        self._cost = cost or Scrypt()
        self._cache: dict[str, tuple[float, Token, User]] = {}
        self._dummy: str | None = None
        # One password hash at a time: each takes a worker thread for ~0.2 s, and the store's
        # writes use the same threads, so a flood of logins must not take them all.
        self._kdf = asyncio.Semaphore(1)

    def now(self) -> int:
        """Now on the accounts' clock (wall time: tokens expire in real time, not plant time)."""
        return self._clock.now_ns()

    # -- users --------------------------------------------------------------------------------

    async def users(self) -> list[User]:
        return await self._store.users()

    async def user(self, name: str) -> User:
        found = await self._find_user(name)
        if found is None:
            msg = f"no user {name!r}"
            raise UnknownAccountError(msg)
        return found

    async def add_user(self, name: str, role: Role, password: str | None = None) -> User:
        try:
            check_user_name(name)
        except ValueError as err:
            raise AccountError(str(err)) from err
        if await self._find_user(name) is not None:
            msg = f"user {name!r} exists already"
            raise AccountExistsError(msg)
        hashed = "" if password is None else await self._hash(password)
        user = User(name=name, role=role, created=self._clock.now_ns(), password=hashed)
        await self._store.put_user(user)
        return user

    async def update_user(
        self,
        name: str,
        *,
        role: Role | None = None,
        password: str | None = None,
        disabled: bool | None = None,
    ) -> User:
        user = before = await self.user(name)
        if role is not None:
            user = replace(user, role=role)
        if password is not None:
            user = replace(user, password=await self._hash(password))
        if disabled is not None:
            user = replace(user, disabled=disabled)
        if _active_admin(before) and not _active_admin(user):
            others = [u for u in await self._store.users() if u.name != name]
            if not any(_active_admin(u) for u in others):
                msg = f"user {name!r} is the last active admin; make another admin first"
                raise AccountError(msg)
        await self._store.put_user(user)
        self._cache.clear()
        return user

    # -- tokens -------------------------------------------------------------------------------

    async def tokens(self, user: str | None = None) -> list[Token]:
        return await self._store.tokens(user)

    async def issue(
        self, name: str, *, expires_in: int | None = None, label: str = ""
    ) -> IssuedToken:
        """A new token for user ``name``, valid for ``expires_in`` ns (None: until revoked)."""
        await self.user(name)
        return await self._put_new(name, new_token(), expires_in, label)

    async def revoke(self, token_id: str) -> Token:
        token = next((t for t in await self._store.tokens() if t.id == token_id), None)
        if token is None:
            msg = f"no token {token_id!r} (plantwin users list shows them)"
            raise UnknownAccountError(msg)
        if token.revoked is None:
            token = replace(token, revoked=self._clock.now_ns())
            await self._store.put_token(token)
        self._cache.clear()
        return token

    async def login(self, name: str, password: str, *, expires_in: int) -> IssuedToken:
        """A token for a user whose password matches; one message for every failure."""
        user = await self._find_user(name)
        if self._dummy is None:
            self._dummy = await self._hash("no user has this password")
        stored = user.password if user is not None and user.password else self._dummy
        async with self._kdf:
            ok = await asyncio.to_thread(verify_password, password, stored)
        if not ok or user is None or not user.password or user.disabled:
            msg = "wrong user name or password (or the user may not log in)"
            raise AuthError(msg)
        return await self._put_new(user.name, new_token(), expires_in, "login")

    async def authenticate(self, secret: str) -> Principal:
        """The user and role a bearer token stands for; AuthError says why it is refused."""
        if not secret:
            msg = (
                "no bearer token: send 'Authorization: Bearer <token>' (a token from "
                "'plantwin users token NAME' or POST /api/v1/auth/login)"
            )
            raise AuthError(msg)
        digest = token_digest(secret)
        cached = self._cache.get(digest)
        if cached is not None and time.monotonic() - cached[0] < CACHE_S:
            _, token, user = cached
        else:
            found = await self._store.token_by_digest(digest)
            if found is None:
                msg = "unknown bearer token"
                raise AuthError(msg)
            token, owner = found, await self._find_user(found.user)
            if owner is None:
                msg = f"token {token.id}: its user {token.user!r} no longer exists"
                raise AuthError(msg)
            user = owner
            if len(self._cache) >= CACHE_MAX:
                self._cache.clear()
            self._cache[digest] = (time.monotonic(), token, user)
        now = self._clock.now_ns()
        if token.revoked is not None:
            msg = f"token {token.id} was revoked at {iso(token.revoked)}"
            raise AuthError(msg)
        if token.expired(now):
            assert token.expires is not None
            msg = f"token {token.id} expired at {iso(token.expires)}"
            raise AuthError(msg)
        if user.disabled:
            msg = f"user {user.name!r} is disabled"
            raise AuthError(msg)
        return Principal(user=user.name, role=user.role, token=token.id)

    async def bootstrap_admin(self, secret: str | None) -> IssuedToken:
        """The admin token of this start: ``secret`` if given, else a new one.

        The user 'admin' is created if missing. The startup token of the previous start, printed
        or given, is revoked unless it is ``secret`` again: a start with a new
        ``--admin-token`` rotates the old one out, so a leaked token stops working.
        """
        admin = await self._find_user(ADMIN)
        if admin is None:
            await self.add_user(ADMIN, Role.ADMIN)
        elif admin.role is not Role.ADMIN or admin.disabled:
            msg = f"user {ADMIN!r} exists but is not an active admin; fix it with plantwin users"
            raise AccountError(msg)
        keep = token_digest(secret) if secret is not None else None
        for old in await self._store.tokens(ADMIN):
            if old.label in (STARTUP, GIVEN) and old.revoked is None and old.digest != keep:
                await self.revoke(old.id)
        if secret is None:
            return await self._put_new(ADMIN, new_token(), None, STARTUP)
        if len(secret) < MIN_GIVEN_TOKEN or not secret.isprintable() or " " in secret:
            msg = (
                f"--admin-token needs at least {MIN_GIVEN_TOKEN} printable characters without "
                "spaces (it is stored as a fast hash, so it must not be guessable)"
            )
            raise AccountError(msg)
        known = await self._store.token_by_digest(token_digest(secret))
        if known is None:
            return await self._put_new(ADMIN, secret, None, GIVEN)
        if known.user != ADMIN:
            msg = f"--admin-token is token {known.id} of user {known.user!r}, not of {ADMIN!r}"
            raise AccountError(msg)
        if known.revoked is not None or known.expired(self._clock.now_ns()):
            msg = f"--admin-token is token {known.id}, which was revoked or expired; use another"
            raise AccountError(msg)
        return IssuedToken(token=known, secret=secret)

    # -- helpers ------------------------------------------------------------------------------

    async def _find_user(self, name: str) -> User | None:
        return next((u for u in await self._store.users() if u.name == name), None)

    async def _hash(self, password: str) -> str:
        try:
            check_password(password)
        except ValueError as err:
            raise AccountError(str(err)) from err
        async with self._kdf:
            return await asyncio.to_thread(hash_password, password, self._cost)

    async def _put_new(
        self, user: str, secret: str, expires_in: int | None, label: str
    ) -> IssuedToken:
        if expires_in is not None and expires_in <= 0:
            msg = f"a token must live longer than zero, got {expires_in} ns"
            raise AccountError(msg)
        now = self._clock.now_ns()
        token = Token(
            id=new_token_id(),
            user=user,
            digest=token_digest(secret),
            created=now,
            expires=None if expires_in is None else now + expires_in,
            label=label,
        )
        await self._store.put_token(token)
        return IssuedToken(token=token, secret=secret)


def _active_admin(user: User) -> bool:
    return user.role is Role.ADMIN and not user.disabled

"""Access control values: roles, the permissions they grant, users, tokens, principals.

The one table of who may do what is :data:`ROLE_PERMISSIONS`; every API route declares the
one :class:`Permission` it needs, and a role grants it or not.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    VIEWER = "viewer"
    OPERATOR = "operator"
    ENGINEER = "engineer"
    ADMIN = "admin"


class Permission(StrEnum):
    READ = "read"  # twins, history, alarms, KPIs, commands, connectors
    OPERATE = "operate"  # acknowledge and shelve alarms, send and approve commands, ingest
    ENGINEER = "engineer"  # change rules, models, scenarios; take alarms out of service
    ADMIN = "admin"  # manage users and tokens


# Each role grants its own permission and those of the roles below it.
ROLE_PERMISSIONS: Mapping[Role, frozenset[Permission]] = {
    Role.VIEWER: frozenset({Permission.READ}),
    Role.OPERATOR: frozenset({Permission.READ, Permission.OPERATE}),
    Role.ENGINEER: frozenset({Permission.READ, Permission.OPERATE, Permission.ENGINEER}),
    Role.ADMIN: frozenset(Permission),
}

USER_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,63}")


def check_user_name(name: str) -> None:
    """Raise ValueError unless ``name`` is 1-64 letters, digits, '.', '_', '@' or '-'."""
    if not USER_NAME.fullmatch(name):
        msg = (
            f"user name {name!r} is not allowed: use 1-64 letters, digits, '.', '_', '@' or '-', "
            "starting with a letter or digit"
        )
        raise ValueError(msg)


@dataclass(frozen=True, slots=True, kw_only=True)
class User:
    """A person or a machine account. ``password`` is a KDF hash string ('' = token only)."""

    name: str
    role: Role
    created: int  # ns UTC
    password: str = ""
    disabled: bool = False  # a disabled user's tokens are refused; the audit keeps the name


@dataclass(frozen=True, slots=True, kw_only=True)
class Token:
    """A bearer token as stored: only the SHA-256 ``digest`` of the secret, never the secret."""

    id: str  # public handle, for listing and revoking
    user: str
    digest: str  # hex SHA-256 of the secret
    created: int  # ns UTC
    expires: int | None = None  # ns UTC; None: never
    revoked: int | None = None  # ns UTC when revoked; None: not revoked
    label: str = ""  # what it is for ("login", "startup", "gateway L1" ...)

    def expired(self, now: int) -> bool:
        return self.expires is not None and now >= self.expires


@dataclass(frozen=True, slots=True, kw_only=True)
class Principal:
    """Who a request acts for: the token's user and role at the time of the request."""

    user: str
    role: Role
    token: str  # the token's id

    def can(self, permission: Permission) -> bool:
        return permission in ROLE_PERMISSIONS[self.role]

"""Request and response schemas of the login, user and token routes."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

RoleName = Literal["viewer", "operator", "engineer", "admin"]


class _Request(BaseModel):
    """Request bodies take JSON types as they are: 0 is not false, 1 is not "1"."""

    model_config = ConfigDict(strict=True)


class LoginRequest(_Request):
    user: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=1024)
    expires: str = Field(default="12h", description="how long the token lives, e.g. 8h, 7d")


class IssuedTokenOut(BaseModel):
    token: str = Field(description="the bearer token; shown this once, only its hash is kept")
    id: str = Field(description="the token's id, for listing and revoking")
    user: str
    role: RoleName
    expires: str | None = Field(description="ISO 8601; null: until revoked")


class MeOut(BaseModel):
    user: str
    role: RoleName
    permissions: list[str] = Field(description="read, operate, engineer, admin")
    token: str = Field(description="id of the token used")


class UserIn(_Request):
    name: str = Field(min_length=1, max_length=64, description="letters, digits, . _ @ -")
    role: RoleName
    password: str | None = Field(
        default=None,
        min_length=8,
        max_length=1024,
        description="lets the user log in on /login; none: tokens only",
    )


class UserPatch(_Request):
    role: RoleName | None = None
    password: str | None = Field(default=None, min_length=8, max_length=1024)
    disabled: bool | None = Field(default=None, description="a disabled user's tokens fail")


class UserOut(BaseModel):
    name: str
    role: RoleName
    created: str
    disabled: bool
    password_login: bool = Field(description="has a password for /login")


class UserListOut(BaseModel):
    users: list[UserOut]


class TokenIn(_Request):
    expires: str = Field(default="30d", description="e.g. 12h, 30d, or 'never'")
    label: str = Field(default="", max_length=100, description="what it is for")


class TokenOut(BaseModel):
    id: str
    user: str
    label: str
    created: str
    expires: str | None
    revoked: str | None
    status: Literal["active", "expired", "revoked"]


class TokenListOut(BaseModel):
    tokens: list[TokenOut] = Field(description="oldest first")

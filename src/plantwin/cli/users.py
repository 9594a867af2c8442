"""`plantwin users`: add users, issue and revoke tokens, list them, on a store file."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from typing import Annotated, TypeVar

import typer
from rich.table import Table

from plantwin.api.params import ParamError, parse_duration
from plantwin.cli.console import err, out
from plantwin.core.auth import Role
from plantwin.core.clock import iso
from plantwin.core.errors import PlantwinError
from plantwin.processing.accounts import Accounts

T = TypeVar("T")

users_app = typer.Typer(
    help="Users and their API tokens (on a stopped store; while plantwin runs, use the API).",
    no_args_is_help=True,
)

StoreOption = Annotated[
    str,
    typer.Option("--store", help="DuckDB file (the demo's is plantwin-demo.duckdb)"),
]


def _run(store: str, work: Callable[[Accounts], Awaitable[T]]) -> T:
    from plantwin.runtime.accounts import open_accounts  # noqa: PLC0415 - keeps startup light

    async def main() -> T:
        async with open_accounts(store) as accounts:
            return await work(accounts)

    try:
        return asyncio.run(main())
    except PlantwinError as error:
        err.print(f"error: {error}", style="bold red", markup=False, highlight=False)
        raise typer.Exit(1) from None


def _password(value: str | None) -> str | None:
    """'-' reads the password from the first line of standard input (keeps it out of ps)."""
    if value != "-":
        return value
    return sys.stdin.readline().rstrip("\r\n")


@users_app.command("add")
def add(
    name: Annotated[str, typer.Argument(help="user name: letters, digits, . _ @ -")],
    role: Annotated[Role, typer.Option("--role", help="viewer, operator, engineer or admin")],
    password: Annotated[
        str | None,
        typer.Option(
            "--password",
            help="lets the user log in on /login; '-' reads it from standard input",
        ),
    ] = None,
    store: StoreOption = "plantwin.duckdb",
) -> None:
    """Add a user with a role (and optionally a password for the login page)."""
    secret = _password(password)
    user = _run(store, lambda a: a.add_user(name, role, secret))
    login = "password login" if user.password else "tokens only"
    out.print(f"added user {user.name} ({user.role.value}, {login})", markup=False)


@users_app.command("token")
def token(
    name: Annotated[str, typer.Argument(help="the user the token acts as")],
    expires: Annotated[
        str, typer.Option("--expires", help="lifetime, e.g. 12h, 30d, or 'never'")
    ] = "30d",
    label: Annotated[str, typer.Option("--label", help="what the token is for")] = "",
    store: StoreOption = "plantwin.duckdb",
) -> None:
    """Issue a bearer token for a user; it is printed once and stored only as a hash."""
    try:
        lifetime = None if expires == "never" else parse_duration(expires, "--expires")
    except ParamError as error:
        err.print(f"error: {error}", style="bold red", markup=False)
        raise typer.Exit(2) from None
    issued = _run(store, lambda a: a.issue(name, expires_in=lifetime, label=label))
    until = (
        "never expires" if issued.token.expires is None else f"expires {iso(issued.token.expires)}"
    )
    err.print(f"token {issued.token.id} for {name}, {until}; it is not shown again:", markup=False)
    sys.stdout.write(issued.secret + "\n")  # alone on stdout, so scripts can capture it


@users_app.command("list")
def list_users(store: StoreOption = "plantwin.duckdb") -> None:
    """Users and their tokens (ids, never the tokens themselves)."""

    async def work(accounts: Accounts) -> Table:
        table = Table("user", "role", "login", "token", "label", "created", "expires", "status")
        now = accounts.now()
        for user in await accounts.users():
            login = ("disabled" if user.disabled else "password") if user.password else "-"
            tokens = await accounts.tokens(user.name)
            if not tokens:
                table.add_row(user.name, user.role.value, login, "-", "", "", "", "")
            for t in tokens:
                status = (
                    "revoked"
                    if t.revoked is not None
                    else "expired"
                    if t.expired(now)
                    else "active"
                )
                expiry = "never" if t.expires is None else iso(t.expires)
                table.add_row(
                    user.name, user.role.value, login, t.id, t.label, iso(t.created), expiry, status
                )
        return table

    out.print(_run(store, work))


@users_app.command("revoke")
def revoke(
    token_id: Annotated[str, typer.Argument(help="token id, as 'plantwin users list' shows")],
    store: StoreOption = "plantwin.duckdb",
) -> None:
    """Revoke a token: it is refused from now on (the record stays, for the audit)."""
    revoked = _run(store, lambda a: a.revoke(token_id))
    out.print(f"token {revoked.id} of {revoked.user} revoked", markup=False)

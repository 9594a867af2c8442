"""DuckDB statements for users and tokens (the ``AuthStore`` part of the store)."""

from __future__ import annotations

from plantwin.core.auth import Role, Token, User
from plantwin.store.duckdb_ops import Con, transaction
from plantwin.store.rules import check_token

_TOKEN_COLUMNS = 'id, "user", digest, created, expires, revoked, label'  # noqa: S105


def put_user(con: Con, user: User) -> None:
    con.execute(
        "INSERT OR REPLACE INTO users VALUES (?, ?, ?, ?, ?)",
        [user.name, user.role.value, user.created, user.password, user.disabled],
    )


def users(con: Con) -> list[User]:
    rows = con.execute(
        "SELECT name, role, created, password, disabled FROM users ORDER BY name"
    ).fetchall()
    return [
        User(name=r[0], role=Role(r[1]), created=r[2], password=r[3], disabled=r[4]) for r in rows
    ]


def put_token(con: Con, token: Token) -> None:
    def body(c: Con) -> None:
        known = {r[0] for r in c.execute("SELECT name FROM users").fetchall()}
        row = c.execute("SELECT id FROM tokens WHERE digest = ?", [token.digest]).fetchone()
        check_token(token, known, None if row is None else row[0])
        c.execute(
            f"INSERT OR REPLACE INTO tokens ({_TOKEN_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)",  # noqa: S608
            [
                token.id,
                token.user,
                token.digest,
                token.created,
                token.expires,
                token.revoked,
                token.label,
            ],
        )

    transaction(con, body)


def tokens(con: Con, user: str | None) -> list[Token]:
    where, args = ("", []) if user is None else ('WHERE "user" = ?', [user])
    rows = con.execute(
        f"SELECT {_TOKEN_COLUMNS} FROM tokens {where} ORDER BY created, id",  # noqa: S608 - fixed text
        args,
    ).fetchall()
    return [_token(r) for r in rows]


def token_by_digest(con: Con, digest: str) -> Token | None:
    row = con.execute(
        f"SELECT {_TOKEN_COLUMNS} FROM tokens WHERE digest = ?",  # noqa: S608 - fixed text
        [digest],
    ).fetchone()
    return None if row is None else _token(row)


def _token(r: tuple[object, ...]) -> Token:
    id_, user, digest, created, expires, revoked, label = r
    assert isinstance(created, int)
    assert expires is None or isinstance(expires, int)
    assert revoked is None or isinstance(revoked, int)
    return Token(
        id=str(id_),
        user=str(user),
        digest=str(digest),
        created=created,
        expires=expires,
        revoked=revoked,
        label=str(label),
    )

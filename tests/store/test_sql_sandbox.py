"""The SQL sandbox against a real DuckDB store holding users and tokens: a reader's query
must not reach password hashes or token digests, by any route the SQL offers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import duckdb
import pytest

from plantwin.core.auth import Role
from plantwin.store import DuckDBStore
from plantwin.store.sql_sandbox import SqlRefusedError, SqlSandbox
from tests.helpers import accounts_for
from tests.reports.demo_day import demo_plant


@pytest.fixture
async def sandbox(tmp_path: Path) -> AsyncIterator[SqlSandbox]:
    plant = demo_plant()
    async with DuckDBStore(path=tmp_path / "s.duckdb") as store:
        await store.register_signals(list(plant.signals))
        accounts = accounts_for(store)
        await accounts.add_user("admin", Role.ADMIN, password="a secret password")
        await accounts.issue("admin")
        yield SqlSandbox(store.sql_connection, plant, timeout_s=5.0, max_rows=100)


SECRETS = [
    "SELECT * FROM users",
    "SELECT password FROM main.users",
    'SELECT digest FROM "TOKENS"',
    "SELECT * FROM s.main.tokens",
    "SELECT (SELECT max(password) FROM users) AS p",
    "WITH t AS (SELECT * FROM tokens) SELECT * FROM t",
    "SELECT * FROM twins WHERE id IN (SELECT name FROM users)",
    "SELECT * FROM query_table('users')",
    "SELECT * FROM query('SELECT * FROM tokens')",
    "SELECT * FROM pragma_storage_info('users')",
]


@pytest.mark.parametrize("sql", SECRETS)
async def test_accounts_are_out_of_reach(sandbox: SqlSandbox, sql: str) -> None:
    with pytest.raises(SqlRefusedError, match=r"users|tokens|not allowed"):
        await sandbox.run(sql)


async def test_views_and_plain_functions_still_work(sandbox: SqlSandbox) -> None:
    result = await sandbox.run(
        "WITH r AS (SELECT * FROM range(3) t(i)) SELECT count(*) AS n FROM r, twins "
        "WHERE twins.kind = 'site' AND i IN (SELECT unnest([0, 1, 2]))"
    )
    assert result.table.to_pylist() == [{"n": 3}]
    samples = await sandbox.run("SELECT count(*) AS n FROM samples")
    assert samples.table.to_pylist() == [{"n": 0}]


async def test_files_stay_closed_below_the_allow_list(tmp_path: Path) -> None:
    """The database-level lock holds on its own, for a function the allow-list let through."""
    async with DuckDBStore(path=tmp_path / "f.duckdb") as store:
        con = store.sql_connection()
        try:
            with pytest.raises(duckdb.PermissionException, match="disabled by configuration"):
                con.execute("SELECT * FROM read_text('/etc/hostname')")
            with pytest.raises(duckdb.Error, match=r"lock_configuration|locked"):
                con.execute("SET enable_external_access = true")
        finally:
            con.close()

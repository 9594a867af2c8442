"""Read-only SQL over the store for self-service analysis, sandboxed.

Layers of the sandbox, each enough to stop what it is for:

- **One SELECT.** DuckDB's own parser splits the text; exactly one statement of type SELECT
  (``WITH ... SELECT`` included) is run. Writes, DDL, COPY, ATTACH, PRAGMA, SET, INSTALL/LOAD
  and multiple statements are refused before anything runs.
- **No account secrets.** The store's ``users`` and ``tokens`` tables (password hashes, token
  digests) share the database with the data; no query may name them, and table functions are
  an allow-list (``query``/``query_table``/``pragma_storage_info`` take table names as text).
- **Read-only transaction.** The query runs inside ``BEGIN TRANSACTION READ ONLY`` on its own
  connection (a cursor of the store's database), which is rolled back afterwards.
- **No files, no network.** The store's database runs with ``enable_external_access = false``
  and ``lock_configuration = true`` once SQL is enabled (``DuckDBStore.sql_connection``):
  ``read_csv``, ``read_parquet``, ``glob``, httpfs URLs and extension loading fail, and no
  statement can switch that back. The store itself never reads outside files.
- **Time and rows.** A timer interrupts the connection after ``timeout_s``; results stream
  and stop after ``max_rows`` (the answer says it was truncated).
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import duckdb
import pyarrow as pa

from plantwin.core.errors import QueryError
from plantwin.model.plant import Plant
from plantwin.store.sql_views import create_views, hierarchy

DEFAULT_TIMEOUT_S = 10.0
DEFAULT_MAX_ROWS = 100_000
MAX_SQL_CHARS = 20_000

# Tables no query may read: password hashes and token digests.
SECRET_TABLES = frozenset({"users", "tokens"})
# Table functions a query may use; the others read files, run SQL given as text
# (``query``, ``query_table``) or describe tables by name (``pragma_storage_info``).
TABLE_FUNCTIONS = frozenset(
    {
        "range",
        "generate_series",
        "unnest",
        "json_each",
        "json_tree",
        "duckdb_tables",
        "duckdb_views",
        "duckdb_columns",
    }
)


class SqlRefusedError(QueryError):
    """The SQL is not one read-only SELECT, or does not parse."""


class SqlTimeoutError(QueryError):
    """The query ran longer than its time limit and was interrupted."""


@dataclass(frozen=True, slots=True, kw_only=True)
class SqlResult:
    table: pa.Table
    truncated: bool  # more rows than the limit; ``table`` holds the first ``limit``
    limit: int
    elapsed_s: float


class SqlSandbox:
    """Runs read-only SELECTs on fresh connections from ``connect``, one at a time per slot.

    Args:
        connect: a new connection to the store's database with the sandbox settings applied.
        plant: gives the hierarchy views.
        max_concurrent: queries running at once; others wait (they share the store's CPU).
    """

    def __init__(
        self,
        connect: Callable[[], duckdb.DuckDBPyConnection],
        plant: Plant,
        *,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        max_rows: int = DEFAULT_MAX_ROWS,
        max_concurrent: int = 2,
    ) -> None:
        self._connect = connect
        self._tree, self._meta = hierarchy(plant)
        self.timeout_s = timeout_s
        self.max_rows = max_rows
        self._slots = asyncio.Semaphore(max_concurrent)

    async def run(
        self, sql: str, *, max_rows: int | None = None, timeout_s: float | None = None
    ) -> SqlResult:
        check_select(sql)
        limit = min(max_rows or self.max_rows, self.max_rows)
        seconds = min(timeout_s or self.timeout_s, self.timeout_s)
        async with self._slots:
            return await asyncio.to_thread(self._run, sql, limit, seconds)

    def _run(self, statement: str, limit: int, timeout_s: float) -> SqlResult:
        started = time.perf_counter()
        con = self._connect()
        timer = threading.Timer(timeout_s, con.interrupt)
        try:
            create_views(con, self._tree, self._meta)
            con.execute("BEGIN TRANSACTION READ ONLY")
            timer.start()
            batches, rows = [], 0
            reader = con.sql(statement).to_arrow_reader(min(limit + 1, 10_000))
            schema = reader.schema
            for batch in reader:
                batches.append(batch)
                rows += batch.num_rows
                if rows > limit:
                    break
            table = pa.Table.from_batches(batches, schema=schema)
        except duckdb.InterruptException as err:
            msg = f"the query ran longer than {timeout_s:g} s and was stopped; narrow it down"
            raise SqlTimeoutError(msg) from err
        except duckdb.Error as err:
            raise SqlRefusedError(_first_lines(str(err))) from err
        finally:
            timer.cancel()
            con.close()  # rolls back the read-only transaction
        return SqlResult(
            table=table.slice(0, limit),
            truncated=table.num_rows > limit,
            limit=limit,
            elapsed_s=time.perf_counter() - started,
        )


def check_select(sql: str) -> None:
    """Refuse (:class:`SqlRefusedError`, saying why) anything but exactly one SELECT statement."""
    if len(sql) > MAX_SQL_CHARS:
        msg = f"the query has {len(sql):,} characters; at most {MAX_SQL_CHARS:,} are accepted"
        raise SqlRefusedError(msg)
    try:
        statements = duckdb.extract_statements(sql)
    except duckdb.Error as err:
        raise SqlRefusedError(f"the query does not parse: {_first_lines(str(err))}") from err
    if len(statements) != 1:
        msg = f"send exactly one SELECT statement, got {len(statements)}"
        raise SqlRefusedError(msg)
    (statement,) = statements
    if statement.type != duckdb.StatementType.SELECT:
        kind = str(statement.type).rsplit(".", 1)[-1]
        msg = f"only SELECT (or WITH ... SELECT) is allowed, this is a {kind} statement"
        raise SqlRefusedError(msg)
    _check_sources(sql)


# A connection of its own only parses (json_serialize_sql); opening one costs ~20 ms.
_parser: duckdb.DuckDBPyConnection | None = None
_parser_lock = threading.Lock()


def _parse_tree(sql: str) -> str | None:
    """DuckDB's parse tree of ``sql`` as JSON."""
    global _parser  # noqa: PLW0603 - made on first use, shared by every sandbox
    with _parser_lock:
        if _parser is None:
            _parser = duckdb.connect(":memory:")
        row = _parser.execute("SELECT json_serialize_sql(?)", [sql]).fetchone()
    return None if row is None else str(row[0])


def _check_sources(sql: str) -> None:
    """Refuse a query naming a secret table or a table function outside the allow-list."""
    text = _parse_tree(sql)
    tree = json.loads(text) if text else {"error": True}
    if tree.get("error"):
        msg = f"the query does not parse: {tree.get('error_message', 'unknown error')}"
        raise SqlRefusedError(msg)
    nodes: list[object] = [tree]
    while nodes:
        node = nodes.pop()
        if isinstance(node, list):
            nodes.extend(node)
            continue
        if not isinstance(node, dict):
            continue
        if node.get("type") == "BASE_TABLE":
            name = str(node.get("table_name", "")).lower()
            if name in SECRET_TABLES:
                msg = f"table {name!r} holds account secrets and is not allowed in queries"
                raise SqlRefusedError(msg)
        elif node.get("type") == "TABLE_FUNCTION":
            function = node.get("function")
            name = str(function.get("function_name", "") if isinstance(function, dict) else "")
            if name.lower() not in TABLE_FUNCTIONS:
                allowed = ", ".join(sorted(TABLE_FUNCTIONS))
                msg = f"table function {name!r} is not allowed in queries; allowed: {allowed}"
                raise SqlRefusedError(msg)
        nodes.extend(node.values())


def _first_lines(text: str, lines: int = 3) -> str:
    return "\n".join(text.strip().splitlines()[:lines])

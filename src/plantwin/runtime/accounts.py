"""Accounts on a store file, for `plantwin users` (the twin itself need not run)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from plantwin.processing.accounts import Accounts
from plantwin.store.duckdb_store import DuckDBStore


@asynccontextmanager
async def open_accounts(store: str) -> AsyncIterator[Accounts]:
    """Users and tokens of the DuckDB file ``store``.

    A running plantwin holds the file's lock, so this fails with a StoreError that says so;
    while it runs, manage users through the API (POST /api/v1/users ...) instead.
    """
    async with DuckDBStore(path=store) as opened:
        yield Accounts(opened)

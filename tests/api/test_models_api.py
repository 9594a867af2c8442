"""GET /api/v1/models and the CLI `plantwin models` over a real store with registered models."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from plantwin.analytics.registry import ModelRegistry
from plantwin.api.app import create_app
from plantwin.api.context import ApiContext
from plantwin.cli import app as cli
from plantwin.core import ManualClock
from plantwin.store import DuckDBStore
from plantwin.twin import TwinState
from tests.helpers import accounts_for, bearer
from tests.processing.kpi_support import catalog, plant


async def register_two(store: DuckDBStore) -> None:
    registry = ModelRegistry(store, now_ns=lambda: 7)
    for end in (100, 200):
        await registry.register(
            "spindle-rul", {"end": end}, kind="test", data_start=0, data_end=end,
            data_sources=("a/b",), features=("f1", "f2"), metrics={"mae_h": end / 100},
        )  # fmt: skip


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    p = plant()
    async with DuckDBStore(path=tmp_path / "m.duckdb") as store:
        await register_two(store)
        context = ApiContext(
            plant=p, catalog=catalog(p), twin=TwinState(p, catalog(p)), store=store,
            clock=ManualClock(0), health=lambda: {"status": "ok"}, accounts=accounts_for(store),
        )  # fmt: skip
        transport = httpx.ASGITransport(app=create_app(context))
        async with httpx.AsyncClient(
            transport=transport, base_url="http://test", headers=await bearer(context.accounts)
        ) as http:
            yield http


async def test_models_are_listed_and_looked_up(client: httpx.AsyncClient) -> None:
    listed = (await client.get("/api/v1/models")).json()
    assert [(m["name"], m["version"]) for m in listed] == [("spindle-rul", 1), ("spindle-rul", 2)]
    assert listed[1]["metrics"] == {"mae_h": 2.0}
    assert listed[1]["features"] == ["f1", "f2"]
    assert listed[1]["data_end"] == 200
    versions = (await client.get("/api/v1/models/spindle-rul")).json()
    assert [m["data_end"] for m in versions] == [100, 200]
    one = await client.get("/api/v1/models/spindle-rul/1")
    assert one.status_code == 200
    assert one.json()["data_end"] == 100
    missing = await client.get("/api/v1/models/spindle-rul/9")
    assert missing.status_code == 404
    assert "no version 9" in missing.json()["error"]["message"]
    assert (await client.get("/api/v1/models/nope")).status_code == 404


def test_cli_lists_and_shows_models(tmp_path: Path) -> None:
    path = tmp_path / "c.duckdb"

    async def setup() -> None:
        async with DuckDBStore(path=path) as store:
            await register_two(store)

    asyncio.run(setup())
    runner = CliRunner()
    listed = runner.invoke(cli, ["models", "list", "--store", str(path), "--json"])
    assert listed.exit_code == 0, listed.output
    assert [m["version"] for m in json.loads(listed.stdout)] == [1, 2]
    table = runner.invoke(cli, ["models", "list", "--store", str(path)])
    assert "spindle-rul" in table.stdout
    assert "mae_h=2" in table.stdout
    shown = runner.invoke(
        cli, ["models", "show", "spindle-rul", "--version", "1", "--store", str(path)]
    )
    assert json.loads(shown.stdout)["data_end"] == 100
    bad = runner.invoke(cli, ["models", "show", "nope", "--store", str(path)])
    assert bad.exit_code == 1
    assert "no model 'nope'" in bad.stderr
    absent = runner.invoke(cli, ["models", "list", "--store", str(tmp_path / "none.duckdb")])
    assert absent.exit_code == 1


def test_train_rul_without_failures_in_the_history_says_so(tmp_path: Path) -> None:
    path = tmp_path / "empty.duckdb"
    result = CliRunner().invoke(cli, ["models", "train-rul", "--store", str(path), "--days", "1"])
    assert result.exit_code == 1
    assert "no failures in the history" in result.stderr

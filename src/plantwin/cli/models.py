"""`plantwin models`: the registered trained models of a store file (list, show)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, TypeVar

import typer
from rich.table import Table

from plantwin.analytics.registry import ModelRegistry, info_dict
from plantwin.cli.console import err, out
from plantwin.core.clock import iso
from plantwin.core.errors import PlantwinError
from plantwin.core.models import ModelInfo

T = TypeVar("T")

models_app = typer.Typer(
    help="Registered trained models: versions, training data, features, metrics.",
    no_args_is_help=True,
)

StoreOption = Annotated[
    Path, typer.Option("--store", help="DuckDB file (the demo's is plantwin-demo.duckdb)")
]
JsonOption = Annotated[bool, typer.Option("--json", help="print JSON instead of a table")]


def _run(store: Path, work: Callable[[ModelRegistry], Awaitable[T]]) -> T:
    from plantwin.store.duckdb_store import DuckDBStore  # noqa: PLC0415 - keeps startup light

    if not store.exists():
        err.print(f"error: no store file {store}", style="bold red", markup=False)
        raise typer.Exit(1)

    async def main() -> T:
        async with DuckDBStore(path=store) as opened:
            return await work(ModelRegistry(opened))

    try:
        return asyncio.run(main())
    except PlantwinError as error:
        err.print(f"error: {error}", style="bold red", markup=False, highlight=False)
        raise typer.Exit(1) from None


def _metrics(info: ModelInfo) -> str:
    return ", ".join(f"{k}={v:.4g}" for k, v in sorted(info.metrics.items()))


@models_app.command("list")
def list_models(
    name: Annotated[str | None, typer.Argument(help="only this model's versions")] = None,
    store: StoreOption = Path("plantwin.duckdb"),
    as_json: JsonOption = False,
) -> None:
    """Every registered version: name, version, kind, created, training data, metrics."""
    found = _run(store, lambda r: r.list(name))
    if as_json:
        print(json.dumps([info_dict(i) for i in found], indent=2))
        return
    table = Table("name", "version", "kind", "created", "trained on", "features", "metrics")
    for i in found:
        span = f"{iso(i.data_start)} .. {iso(i.data_end)}"
        table.add_row(
            i.name, str(i.version), i.kind, iso(i.created), span, str(len(i.features)), _metrics(i)
        )
    out.print(table)


@models_app.command("show")
def show(
    name: Annotated[str, typer.Argument(help="model name")],
    version: Annotated[int | None, typer.Option("--version", help="default: newest")] = None,
    store: StoreOption = Path("plantwin.duckdb"),
) -> None:
    """One version in full (JSON): data range and sources, features, metrics, params, sha256."""
    info = _run(store, lambda r: r.info(name, version))
    print(json.dumps(info_dict(info), indent=2))

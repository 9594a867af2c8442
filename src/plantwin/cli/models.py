"""`plantwin models`: the registered trained models of a store file (list, show)."""

from __future__ import annotations

import asyncio
import json
import time
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
NS_PER_S = 1_000_000_000

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


@models_app.command("train-rul")
def train_rul(
    store: StoreOption = Path("plantwin.duckdb"),
    plant: Annotated[
        Path | None, typer.Option("--plant", help="plant file; default: the demo line")
    ] = None,
    days: Annotated[float, typer.Option("--days", help="train on the last DAYS of history")] = 30,
    simulate_days: Annotated[
        float,
        typer.Option(
            "--simulate-days",
            help="demo only: first simulate this many days of the demo line (a bearing lasts "
            "~4 days) into the store, ending now, and train on them",
        ),
    ] = 0,
    seed: Annotated[int, typer.Option("--seed", help="simulation and training seed")] = 0,
) -> None:
    """Train and register the next version of each RUL model the plant file names."""
    from plantwin.cli import demo_plant_file  # noqa: PLC0415 - avoids an import cycle
    from plantwin.model.loader import load_plant  # noqa: PLC0415
    from plantwin.runtime.rul import train_plant_rul  # noqa: PLC0415
    from plantwin.runtime.rul_study import demo_history  # noqa: PLC0415
    from plantwin.store.duckdb_store import DuckDBStore  # noqa: PLC0415

    model = load_plant(plant or demo_plant_file())
    now = time.time_ns() // NS_PER_S * NS_PER_S
    span = simulate_days if simulate_days > 0 else days
    start = now - int(span * 86_400) * NS_PER_S

    async def main() -> list[ModelInfo]:
        async with DuckDBStore(path=store) as opened:
            if simulate_days > 0:
                keys = {
                    k
                    for s in model.signals.values()
                    if s.rul
                    for k in (s.rul.signal, s.rul.running)
                }
                await demo_history(
                    model, opened, keys, seed=seed, days=simulate_days, start_ns=start
                )
            return await train_plant_rul(model, opened, start, now, seed=seed)

    try:
        made = asyncio.run(main())
    except PlantwinError as error:
        err.print(f"error: {error}", style="bold red", markup=False, highlight=False)
        raise typer.Exit(1) from None
    for info in made:
        out.print(f"registered {info.ref}: {_metrics(info)}", markup=False, highlight=False)

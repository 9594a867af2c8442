"""`plantwin eval cmapss`: the RUL model on the NASA C-MAPSS benchmark."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from plantwin.cli.console import err, out
from plantwin.core.errors import PlantwinError

eval_app = typer.Typer(help="Evaluate analytics on public benchmark data.", no_args_is_help=True)


@eval_app.command("cmapss")
def eval_cmapss(
    data: Annotated[
        Path, typer.Option("--data", help="folder with train_FDxxx, test_FDxxx, RUL_FDxxx.txt")
    ],
    subset: Annotated[str, typer.Option("--subset", help="FD001, FD002, FD003 or FD004")] = "FD001",
    seed: Annotated[int, typer.Option("--seed", help="random seed of the models")] = 0,
    as_json: Annotated[
        bool, typer.Option("--json", help="end with one JSON object of the figures")
    ] = False,
) -> None:
    """Train the RUL model on train_FDxxx, predict the last cycle of every test engine and print
    RMSE and the PHM08 score against the raw RUL file and with true RUL capped at 125."""
    # Imported here: lightgbm and scikit-learn load slowly and other commands do not need them.
    from plantwin.analytics.rul.benchmark import run_cmapss  # noqa: PLC0415

    try:
        result = run_cmapss(data, subset, seed=seed)
    except PlantwinError as error:
        err.print(f"error: {error}", style="bold red", markup=False)
        raise typer.Exit(1) from None
    low, high = result.quantiles
    lines = [
        f"C-MAPSS {result.subset}: {result.engines} test engines, "
        f"{result.conditions} operating condition(s), {result.sensors} sensors, seed {seed}",
        f"raw true RUL:        RMSE {result.rmse:7.2f}   PHM08 score {result.score:9.1f}",
        f"true RUL capped 125: RMSE {result.rmse_capped:7.2f}   "
        f"PHM08 score {result.score_capped:9.1f}",
        f"interval q{low:g}-q{high:g}: coverage {result.coverage:.0%} (raw), "
        f"{result.coverage_capped:.0%} (capped)",
        f"trained and scored in {result.seconds:.1f} s",
    ]
    for line in lines:
        out.print(line, markup=False, highlight=False)
    if as_json:
        out.print(json.dumps(result.as_json()), markup=False, highlight=False, soft_wrap=True)

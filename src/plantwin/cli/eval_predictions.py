"""`plantwin eval scrap` and `plantwin eval energy`: the scrap model and the energy forecast
trained and scored on seeded histories of the demo line (examples/machining-line.yaml)."""

from __future__ import annotations

import asyncio
import json
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from plantwin.cli.console import err, out

if TYPE_CHECKING:
    from plantwin.runtime.prediction_study import ModelRecord

DEFAULT_PLANT = Path("examples/machining-line.yaml")

PlantOption = Annotated[Path, typer.Option("--plant", help="the demo plant file")]
SeedOption = Annotated[int, typer.Option("--seed", help="training run seed; held-out is seed+1")]
RegisterOption = Annotated[
    Path | None,
    typer.Option("--register", help="store file (DuckDB) to register the trained model in"),
]
JsonOption = Annotated[bool, typer.Option("--json", help="end with one JSON object of the figures")]


def scrap(
    plant: PlantOption = DEFAULT_PLANT,
    train_days: Annotated[float, typer.Option("--train-days", min=1)] = 14.0,
    test_days: Annotated[float, typer.Option("--test-days", min=1)] = 7.0,
    seed: SeedOption = 1,
    register_to: RegisterOption = None,
    as_json: JsonOption = False,
) -> None:
    """ROC AUC, Brier score, precision and recall of the calibrated scrap model on a held-out
    run, against the rule 'most worn tool above 0.3 mm'."""
    # Lazy: lightgbm and scikit-learn load slowly and only this command needs them.
    from plantwin.core.errors import PlantwinError  # noqa: PLC0415
    from plantwin.model.loader import load_plant  # noqa: PLC0415
    from plantwin.runtime.prediction_study import scrap_study  # noqa: PLC0415

    try:
        study = scrap_study(
            load_plant(plant), train_days=train_days, test_days=test_days, seed=seed
        )
    except PlantwinError as error:
        err.print(f"error: {error}", style="bold red", markup=False, highlight=False)
        raise typer.Exit(1) from None
    e = study.evaluation
    say(f"held-out run (seed {seed + 1}, {test_days:g} days): {e.parts} parts, {e.scrapped} scrap")
    say(f"{'':<26} {'ROC AUC':>8} {'Brier':>8} {'precision':>9} {'recall':>7}")
    for name, s in (("model (p > 0.5)", e.model), ("wear rule (> 0.3 mm)", e.baseline)):
        brier = "-" if s.brier is None else f"{s.brier:.4f}"
        say(f"{name:<26} {s.roc_auc:>8.3f} {brier:>8} {s.precision:>9.3f} {s.recall:>7.3f}")
    if register_to is not None:
        say(f"registered as {_register(register_to, study.model, study.record)} in {register_to}")
    if as_json:
        figures = {**e.as_dict(), "record": asdict(study.record)}
        out.print(json.dumps(figures), markup=False, highlight=False, soft_wrap=True)


def energy(
    plant: PlantOption = DEFAULT_PLANT,
    train_days: Annotated[float, typer.Option("--train-days", min=2)] = 14.0,
    test_days: Annotated[float, typer.Option("--test-days", min=2)] = 5.0,
    horizon: Annotated[int, typer.Option("--horizon", help="hours ahead", min=1, max=24)] = 6,
    seed: SeedOption = 1,
    register_to: RegisterOption = None,
    as_json: JsonOption = False,
) -> None:
    """Rolling-origin backtest of the site meter's hourly energy forecast: MAE, MAPE and the
    coverage of the 80 % interval, against the seasonal-naive forecast."""
    from plantwin.core.errors import PlantwinError  # noqa: PLC0415
    from plantwin.model.loader import load_plant  # noqa: PLC0415
    from plantwin.runtime.prediction_study import energy_study  # noqa: PLC0415

    try:
        study = energy_study(
            load_plant(plant),
            train_days=train_days,
            test_days=test_days,
            horizon=horizon,
            seed=seed,
        )
    except PlantwinError as error:
        err.print(f"error: {error}", style="bold red", markup=False, highlight=False)
        raise typer.Exit(1) from None
    say(f"held-out run (seed {seed + 1}): {study.model.origins} origins, {horizon} h ahead")
    say(f"{'':<18} {'MAE kWh':>8} {'MAPE %':>7} {'cover 80%':>9} {'width kWh':>9}")
    for s in (study.model, study.baseline):
        say(
            f"{s.name:<18} {s.mae_kwh:>8.2f} {s.mape_percent:>7.2f} {s.coverage:>9.3f} "
            f"{s.width_kwh:>9.2f}"
        )
    if register_to is not None:
        ref = _register(register_to, study.forecaster, study.record)
        say(f"registered as {ref} in {register_to}")
    if as_json:
        figures = {
            "model": study.model.as_dict(),
            "baseline": study.baseline.as_dict(),
            "record": asdict(study.record),
        }
        out.print(json.dumps(figures), markup=False, highlight=False, soft_wrap=True)


def _register(path: Path, model: object, record: ModelRecord) -> str:
    from plantwin.analytics.registry import ModelRegistry  # noqa: PLC0415
    from plantwin.runtime.prediction_study import register  # noqa: PLC0415
    from plantwin.store.duckdb_store import DuckDBStore  # noqa: PLC0415

    async def main() -> str:
        async with DuckDBStore(path=path) as store:
            return (await register(ModelRegistry(store), model, record)).ref

    return asyncio.run(main())


def say(line: str) -> None:
    out.print(line, markup=False, highlight=False)

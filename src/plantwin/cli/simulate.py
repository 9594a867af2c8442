"""`plantwin simulate SCENARIO.yaml`: what-if scenarios of a line, side by side."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.progress import Progress
from rich.table import Table

from plantwin.cli.console import err, out, report_problems
from plantwin.core.errors import PlantwinError
from plantwin.model.problems import PlantFileError

if TYPE_CHECKING:
    from plantwin.simulation.line.calibrate import Calibration
    from plantwin.simulation.line.plant_line import BuiltLine
from plantwin.model.plant import Plant
from plantwin.model.units import duration_ns


def simulate(
    scenario: Annotated[Path, typer.Argument(help="scenario file (YAML)", exists=True)],
    replications: Annotated[
        int | None, typer.Option("--replications", "-n", min=2, help="runs per scenario")
    ] = None,
    horizon: Annotated[
        str | None, typer.Option("--horizon", help="simulated time per run, e.g. 30d")
    ] = None,
    workers: Annotated[
        int | None, typer.Option("--workers", min=1, help="processes (default: all CPUs)")
    ] = None,
    history: Annotated[
        Path | None,
        typer.Option("--history", help="a plantwin DuckDB store to calibrate from", exists=True),
    ] = None,
    since: Annotated[
        str, typer.Option("--since", help="how much of that history to fit, e.g. 7d")
    ] = "7 d",
    as_json: Annotated[
        bool, typer.Option("--json", help="end with one JSON object of the estimates")
    ] = False,
) -> None:
    """Run every scenario of SCENARIO.yaml with common random numbers and print the KPIs
    side by side: mean ± 95 % confidence half-width, and the paired difference to the first."""
    from plantwin.simulation.line.compare import rows  # noqa: PLC0415 - scipy loads slowly
    from plantwin.simulation.line.scenario import load_study  # noqa: PLC0415
    from plantwin.simulation.line.study import run_study  # noqa: PLC0415

    try:
        horizon_s = duration_ns(horizon) / 1e9 if horizon else None
        adjust = _calibrator(history, duration_ns(since) / 1e9) if history else None
        study = load_study(scenario, horizon_s=horizon_s, replications=replications, adjust=adjust)
        with Progress(console=err, transient=True) as bar:
            task = bar.add_task("simulating", total=None)

            def advance(done: int, total: int) -> None:
                bar.update(task, completed=done, total=total)

            summaries = run_study(study, workers=workers, progress=advance)
        table_rows = rows(summaries, study.kpis)
    except PlantFileError as error:
        report_problems(error, scenario)
        raise typer.Exit(1) from None
    except (PlantwinError, ValueError) as error:
        err.print(f"error: {error}", style="bold red", markup=False)
        raise typer.Exit(1) from None
    first = summaries[0].runs[0]
    table = Table(
        title=(
            f"{first.line}: {study.replications} replications x "
            f"{study.horizon_s / 86_400:g} days (warm-up {study.warmup_s / 86_400:g} d), "
            "mean ± 95 % CI"
        )
    )
    table.add_column("KPI")
    for s in summaries:
        table.add_column(s.name, justify="right")
    for row in table_rows:
        table.add_row(row.label, *row.cells)
    out.print(table)
    if as_json:
        figures = {
            s.name: {k: [e.mean, e.half_width] for k, e in s.kpis.items()}
            | {"bottleneck": s.bottleneck}
            for s in summaries
        }
        out.print(json.dumps(figures), markup=False, highlight=False, soft_wrap=True)


def _calibrator(history: Path, since_s: float) -> Callable[[BuiltLine, Plant], BuiltLine]:
    """Fit the line to the store's recent history and print what was fitted."""
    from plantwin.simulation.line.calibrate import calibrate_recent, describe  # noqa: PLC0415
    from plantwin.store import DuckDBStore  # noqa: PLC0415

    def adjust(built: BuiltLine, plant: Plant) -> BuiltLine:
        async def fit() -> Calibration:
            async with DuckDBStore(path=history) as store:
                return await calibrate_recent(built, plant, store, since_s=since_s)

        calibration = asyncio.run(fit())
        for fitted in calibration.fits:
            err.print(f"calibrated {describe(fitted)}", markup=False, highlight=False)
        if not calibration.fits:
            err.print(f"no history to calibrate from in {history}; defaults kept")
        return calibration.apply(built)

    return adjust

"""`plantwin report`: a shift or day report of a line or asset, as PDF or HTML."""

from __future__ import annotations

import asyncio
import time
from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from plantwin.cli.console import err, out, report_problems
from plantwin.core.errors import PlantwinError
from plantwin.model.problems import PlantFileError


def report(
    scope: Annotated[str, typer.Option("--scope", help="twin id or its last part, e.g. L1")],
    day: Annotated[str, typer.Option("--day", help="production day YYYY-MM-DD (site calendar)")],
    plant: Annotated[Path, typer.Option("--plant", help="plant file (YAML)")],
    store: Annotated[
        str, typer.Option("--store", help="DuckDB file of the history")
    ] = "plantwin.duckdb",
    fmt: Annotated[str, typer.Option("--format", help="pdf or html")] = "pdf",
    shift: Annotated[
        str | None, typer.Option("--shift", help="one shift of that day (e.g. A)")
    ] = None,
    output: Annotated[
        Path | None, typer.Option("--out", help="file to write; default <scope>_<day>.<format>")
    ] = None,
) -> None:
    """Write the report of a production day or shift: OEE and losses, downtime by cause,
    alarms, scrap, energy and RUL outlook, with charts."""
    from plantwin.reports import ReportFormat  # noqa: PLC0415 - keeps 'validate' light
    from plantwin.runtime.reports import report_from_store  # noqa: PLC0415

    try:
        when = date.fromisoformat(day)
    except ValueError:
        err.print(f"--day: '{day}' is not a date YYYY-MM-DD", style="bold red")
        raise typer.Exit(2) from None
    if fmt not in {f.value for f in ReportFormat}:
        err.print(f"--format: '{fmt}' is not pdf or html", style="bold red")
        raise typer.Exit(2)
    target = output or Path(f"{scope}_{day}{'_' + shift if shift else ''}.{fmt}")
    started = time.perf_counter()
    try:
        body = asyncio.run(
            report_from_store(plant, store, scope, when, shift=shift, fmt=ReportFormat(fmt))
        )
    except PlantFileError as error:
        report_problems(error, plant)
        raise typer.Exit(1) from None
    except PlantwinError as error:
        err.print(str(error), style="bold red", markup=False)
        raise typer.Exit(1) from None
    target.write_bytes(body)
    took = time.perf_counter() - started
    out.print(f"wrote {target} ({len(body):,} bytes, {took:.1f} s)", markup=False)

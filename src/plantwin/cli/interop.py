"""`plantwin export aas` and `plantwin import aas`: the plant model as an AAS."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from plantwin.cli.console import err, out, report_problems
from plantwin.core.errors import PlantwinError
from plantwin.model.loader import load_plant
from plantwin.model.problems import PlantFileError

export_app = typer.Typer(help="Write the plant model in another format.", no_args_is_help=True)
import_app = typer.Typer(help="Read a plant model from another format.", no_args_is_help=True)


@export_app.command("aas")
def export_aas(
    plant: Annotated[Path, typer.Argument(help="plant file (YAML)")],
    output: Annotated[
        Path | None,
        typer.Option(
            "-o", "--output", help="file to write, .aasx (package) or .json [default: PLANT.aasx]"
        ),
    ] = None,
    id_base: Annotated[
        str | None,
        typer.Option("--id-base", help="prefix of every AAS id [default: urn:plantwin:<name>]"),
    ] = None,
) -> None:
    """Write the plant as an Asset Administration Shell, checked by reading it back (basyx)."""
    from plantwin.interop.aas import export_aas as write  # noqa: PLC0415 - basyx loads slowly

    try:
        model = load_plant(plant)
    except PlantFileError as error:
        report_problems(error, plant)
        raise typer.Exit(1) from None
    target = output if output is not None else Path(plant.stem + ".aasx")
    try:
        written = write(model, target, id_base=id_base)
    except PlantwinError as error:
        err.print(f"error: {error}", style="bold red", markup=False, highlight=False)
        raise typer.Exit(1) from None
    out.print(
        f"wrote {target}: {written.shells} shells, {written.submodels} submodels, "
        f"{written.size:,} bytes in {written.seconds * 1000:.0f} ms; read back by basyx: ok",
        markup=False,
        highlight=False,
    )


@import_app.command("aas")
def import_aas(
    file: Annotated[Path, typer.Argument(help="AAS file: .aasx package or .json")],
    output: Annotated[
        Path | None,
        typer.Option("-o", "--output", help="plant file to write [default: standard output]"),
    ] = None,
) -> None:
    """Turn an Asset Administration Shell into a plant file; notes go to standard error."""
    from plantwin.interop.aas import import_aas as read  # noqa: PLC0415 - basyx loads slowly

    try:
        result = read(file, plant_filename=str(output or "<stdout>"))
    except PlantwinError as error:
        err.print(f"error: {error}", style="bold red", markup=False, highlight=False)
        raise typer.Exit(1) from None
    for note in result.notes:
        err.print(f"note: {note}", markup=False, highlight=False)
    plant = result.plant
    summary = (
        f"{len(plant.twins)} twins, {len(plant.signals)} signals, "
        f"{sum(len(t.commands) for t in plant.twins.values())} commands, "
        f"{len(plant.bindings)} bindings, {len(result.notes)} note(s)"
    )
    if output is None:
        sys.stdout.write(result.text)
        err.print(f"imported {file}: {summary}", markup=False, highlight=False)
        return
    try:
        output.write_text(result.text, encoding="utf-8")
    except OSError as error:
        err.print(f"error: {output}: cannot write: {error}", style="bold red", markup=False)
        raise typer.Exit(1) from None
    out.print(f"wrote {output} from {file}: {summary}", markup=False, highlight=False)

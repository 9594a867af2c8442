"""The plantwin command line: validate a plant file, run the demo, run a plant, replay a
file, export and import the plant model (AAS), evaluate analytics on benchmarks."""

from __future__ import annotations

import asyncio
import logging
from importlib.resources import files
from pathlib import Path
from typing import Annotated

import typer

from plantwin.cli.console import err, out, report_problems
from plantwin.cli.eval_ai4i import ai4i
from plantwin.cli.eval_anomalies import anomalies
from plantwin.cli.eval_predictions import energy, scrap
from plantwin.cli.evaluation import eval_app
from plantwin.cli.interop import export_app, import_app
from plantwin.cli.models import models_app
from plantwin.cli.report import report
from plantwin.cli.simulate import simulate
from plantwin.cli.status import StatusView
from plantwin.cli.summary import plant_tree, replay_lines
from plantwin.cli.users import users_app
from plantwin.core.errors import PlantwinError
from plantwin.model.loader import load_plant
from plantwin.model.problems import PlantFileError

app = typer.Typer(
    name="plantwin",
    help="plantwin: a live digital twin of your plant.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(export_app, name="export")
app.add_typer(import_app, name="import")
app.command("report")(report)
eval_app.command("ai4i")(ai4i)
eval_app.command("anomalies")(anomalies)
eval_app.command("scrap")(scrap)
eval_app.command("energy")(energy)
app.add_typer(eval_app, name="eval")
app.command("simulate")(simulate)
app.add_typer(users_app, name="users")
app.add_typer(models_app, name="models")


def demo_plant_file() -> Path:
    return Path(str(files("plantwin.simulation.demo_plant") / "machining-line.yaml"))


@app.command()
def validate(
    file: Annotated[Path, typer.Argument(help="plant file (YAML)")],
) -> None:
    """Check a plant file; print every problem with file:line, or a summary tree."""
    try:
        plant = load_plant(file)
    except PlantFileError as error:
        report_problems(error, file)
        raise typer.Exit(1) from None
    out.print(plant_tree(plant))


Port = Annotated[int, typer.Option("--port", help="HTTP port of the API")]
Duration = Annotated[
    float | None, typer.Option("--duration", help="run this many seconds, then exit cleanly")
]
StorePath = Annotated[str | None, typer.Option("--store", help="DuckDB file of the history")]
Host = Annotated[str, typer.Option("--host", help="address the API listens on")]
Retention = Annotated[
    float | None, typer.Option("--retention-days", help="delete history older than this")
]
ReportsDir = Annotated[
    Path | None,
    typer.Option("--reports-dir", help="write each closed shift's and day's report (PDF) here"),
]
AdminToken = Annotated[
    str | None,
    typer.Option(
        "--admin-token",
        envvar="PLANTWIN_ADMIN_TOKEN",
        help="the API's admin bearer token (20+ characters); default: a new one, printed once",
    ),
]


@app.command()
def demo(
    port: Port = 8000,
    duration: Duration = None,
    speed: Annotated[float, typer.Option("--speed", help="simulated seconds per second")] = 60.0,
    seed: Annotated[int, typer.Option("--seed", help="random seed of the simulator")] = 7,
    store: StorePath = None,
    host: Host = "127.0.0.1",
    retention_days: Retention = None,
    reports_dir: ReportsDir = None,
    opcua_port: Annotated[
        int, typer.Option("--opcua-port", help="port of the demo's OPC UA server (127.0.0.1)")
    ] = 4840,
    in_process: Annotated[
        bool,
        typer.Option(
            "--in-process",
            help="read the simulator directly instead of over OPC UA (for speeds above ~600)",
        ),
    ] = False,
    admin_token: AdminToken = None,
    train_models: Annotated[
        bool,
        typer.Option(
            "--train-models/--no-train-models",
            help="train the RUL and scrap models the store lacks from simulated history, in "
            "the background (a few minutes), so their signals fill",
        ),
    ] = True,
) -> None:
    """Run the demo machining line, its live twin and the API, with a status table.

    The simulated line is served by a real OPC UA server and the twin reads it through the
    OPC UA connector, unless --in-process is given.
    """
    _serve(
        plant=demo_plant_file(),
        store=store or "plantwin-demo.duckdb",
        host=host,
        port=port,
        duration=duration,
        demo=True,
        speed=speed,
        seed=seed,
        retention_days=retention_days,
        opcua_port=opcua_port,
        in_process=in_process,
        reports_dir=reports_dir,
        admin_token=admin_token,
        train_models=train_models,
    )


@app.command()
def run(
    plant: Annotated[Path, typer.Argument(help="plant file (YAML)")],
    port: Port = 8000,
    duration: Duration = None,
    store: StorePath = None,
    host: Host = "127.0.0.1",
    retention_days: Retention = None,
    reports_dir: ReportsDir = None,
    admin_token: AdminToken = None,
) -> None:
    """Run the twin of a plant file (its connectors, history and API), without the simulator."""
    _serve(
        plant=plant,
        store=store or "plantwin.duckdb",
        host=host,
        port=port,
        duration=duration,
        demo=False,
        speed=1.0,
        seed=0,
        retention_days=retention_days,
        reports_dir=reports_dir,
        admin_token=admin_token,
    )


def _serve(
    *,
    plant: Path,
    store: str,
    host: str,
    port: int,
    duration: float | None,
    demo: bool,
    speed: float,
    seed: int,
    retention_days: float | None,
    opcua_port: int = 4840,
    in_process: bool = False,
    reports_dir: Path | None = None,
    admin_token: str | None = None,
    train_models: bool = False,
) -> None:
    from plantwin.runtime import Runtime, Settings  # noqa: PLC0415 - keeps 'validate' light

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        settings = Settings(
            plant=plant,
            store=store,
            host=host,
            port=port,
            demo=demo,
            speed=speed,
            seed=seed,
            retention_days=retention_days,
            opcua_port=opcua_port,
            in_process=in_process,
            reports_dir=reports_dir,
            admin_token=admin_token,
            train_models=train_models,
        )
    except ValueError as error:
        err.print(f"error: {error}", style="bold red")
        raise typer.Exit(2) from None

    async def main() -> None:
        async with Runtime(settings) as runtime:
            if runtime.admin_token_generated:  # shown this once; only its hash is stored
                out.print(f"admin token: {runtime.admin_token}", markup=False, highlight=False)
            view = StatusView(runtime, out)
            await view.run(runtime.serve(duration))

    try:
        asyncio.run(main())
    except PlantFileError as error:
        report_problems(error, plant)
        raise typer.Exit(1) from None
    except PlantwinError as error:
        err.print(f"error: {error}", style="bold red", markup=False)
        raise typer.Exit(1) from None


@app.command()
def replay(
    file: Annotated[Path, typer.Argument(help="CSV or Parquet file to replay")],
    plant: Annotated[
        Path, typer.Option("--plant", help="plant file with a replay connector (the mapping)")
    ],
    speed: Annotated[
        str | None,
        typer.Option(
            "--speed",
            help="1 = original timing, 10 = ten times faster, max (or 0) = as fast as "
            "possible; default: the connector's speed option",
        ),
    ] = None,
    store: StorePath = None,
    connector: Annotated[
        str | None,
        typer.Option("--connector", help="replay connector to use when the plant has several"),
    ] = None,
    mapping: Annotated[
        list[str] | None,
        typer.Option(
            "--mapping",
            help="override a mapping option as KEY=VALUE, e.g. time_column=time, "
            "time_format=ms, layout=wide; repeatable",
        ),
    ] = None,
) -> None:
    """Replay a recorded file into the store and the twin, then print a summary."""
    from plantwin.runtime import Settings  # noqa: PLC0415 - keeps 'validate' light
    from plantwin.runtime.replay import plan_replay, replay_file  # noqa: PLC0415

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    if not file.is_file():
        what = "is not a file" if file.exists() else "does not exist"
        err.print(f"error: replay file '{file}' {what}", style="bold red", markup=False)
        raise typer.Exit(1)
    overrides: dict[str, str] = {}
    for item in mapping or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            err.print(
                f"error: --mapping {item!r} is not KEY=VALUE (e.g. time_column=time)",
                style="bold red",
                markup=False,
            )
            raise typer.Exit(2)
        overrides[key.strip()] = value.strip()
    settings = Settings(plant=plant, store=store or "plantwin.duckdb")
    try:
        run, name = plan_replay(
            settings, file=file, connector=connector, speed=speed, mapping=overrides
        )
        summary = asyncio.run(replay_file(run, name))
    except PlantFileError as error:
        _report(error, plant)
        raise typer.Exit(1) from None
    except PlantwinError as error:
        err.print(f"error: {error}", style="bold red", markup=False)
        raise typer.Exit(1) from None
    for line in replay_lines(summary, settings.store):
        out.print(line, markup=False, highlight=False)


def _report(error: PlantFileError, file: Path) -> None:
    """Every problem of a plant file as 'file:line path: message', then the count."""
    for problem in error.problems:
        err.print(problem.render(str(file)), markup=False, highlight=False)
    err.print(f"{len(error.problems)} problem(s) in {file}", style="bold red")


def main() -> None:
    app(prog_name="plantwin")


if __name__ == "__main__":
    main()

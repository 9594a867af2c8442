"""`plantwin eval anomalies`: the anomaly detectors on labelled multivariate CSV files.

A plain typer command function, registered on the `eval` sub-app in `plantwin.cli`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from plantwin.cli.console import err, out

DEFAULT_DETECTORS = (
    "pca",
    "pca-empirical",
    "pca-all",
    "pca-ewma",
    "mewma",
    "iforest",
    "iforest-ewma",
)


def anomalies(
    data: Annotated[
        Path,
        typer.Option(
            "--data", help="folder of labelled CSV files (datetime, sensors, anomaly, changepoint)"
        ),
    ],
    fit_rows: Annotated[
        int, typer.Option("--fit-rows", help="rows at the start of each file to fit on", min=10)
    ] = 400,
    detector: Annotated[
        list[str] | None,
        typer.Option(
            "--detector", help=f"{', '.join(DEFAULT_DETECTORS)}; repeat for several (all)"
        ),
    ] = None,
    seed: Annotated[int, typer.Option("--seed", help="seed of the learned detectors")] = 0,
    as_json: Annotated[
        bool, typer.Option("--json", help="end with one JSON object of the figures")
    ] = False,
) -> None:
    """Point-wise precision, recall and F1 (counts summed over all files), false-alarm rate
    FP/(FP+TN), missed-alarm rate FN/(FN+TP) and the median detection delay after each
    labelled changepoint, per detector fitted on the first --fit-rows rows of each file."""
    # Lazy: scikit-learn and scipy load slowly and only this command needs them.
    from plantwin.analytics.anomaly.evaluation import evaluate_folder  # noqa: PLC0415
    from plantwin.core.errors import PlantwinError  # noqa: PLC0415

    try:
        evaluation = evaluate_folder(
            data, fit_rows=fit_rows, detectors=detector or DEFAULT_DETECTORS, seed=seed
        )
    except PlantwinError as error:
        err.print(f"error: {error}", style="bold red", markup=False, highlight=False)
        raise typer.Exit(1) from None
    say(
        f"{evaluation.files} file(s), fitted on the first {evaluation.fit_rows} rows of each, "
        f"{evaluation.rows_scored} rows scored"
    )
    say(
        f"{'detector':<14} {'precision':>9} {'recall':>7} {'f1':>6} {'FAR':>6} {'MAR':>6} "
        f"{'changepoints':>12} {'median delay':>12}"
    )
    for result in evaluation.results:
        c, delays = result.counts, result.delays
        median = delays.median_s()
        delay = "-" if median is None else f"{median:.0f} s"
        found = f"{len(delays.rows)}/{delays.changepoints}"
        say(
            f"{result.name:<14} {c.precision:>9.3f} {c.recall:>7.3f} {c.f1:>6.3f} "
            f"{result.false_alarm_rate:>6.3f} {result.missed_alarm_rate:>6.3f} "
            f"{found:>12} {delay:>12}"
        )
    if as_json:
        out.print(json.dumps(evaluation.as_dict()), markup=False, highlight=False, soft_wrap=True)


def say(line: str) -> None:
    out.print(line, markup=False, highlight=False)

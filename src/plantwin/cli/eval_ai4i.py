"""`plantwin eval ai4i`: the machine-failure classifiers, cross-validated on AI4I 2020.

`ai4i` is a plain typer command function, registered on the `eval` sub-app in
`plantwin.cli`, so other `eval` commands can sit beside it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from plantwin.cli.console import err, out
from plantwin.core.errors import PlantwinError

NOTES = {
    "TWF": "random replacement time 200-240 min: only partly predictable",
    "RNF": "random 0.1 % failures: not predictable by design",
}


def ai4i(
    data: Annotated[Path, typer.Option("--data", help="the AI4I 2020 CSV (ai4i2020.csv)")],
    as_json: Annotated[
        bool, typer.Option("--json", help="end with one JSON object of the figures")
    ] = False,
    seed: Annotated[int, typer.Option("--seed", help="seed of the folds and the models")] = 0,
    folds: Annotated[int, typer.Option("--folds", help="cross-validation folds", min=2)] = 5,
) -> None:
    """Precision, recall, F1 and support per failure mode and for any failure.

    Stratified k-fold cross-validation: every record is predicted once by classifiers
    (lightgbm, one per mode, balanced class weights) trained on the other folds.
    """
    # Lazy: lightgbm and scikit-learn load slowly and only this command needs them.
    from plantwin.analytics.failures import MODES, evaluate, load_ai4i  # noqa: PLC0415

    try:
        evaluation = evaluate(load_ai4i(data), folds=folds, seed=seed)
    except PlantwinError as error:
        err.print(f"error: {error}", style="bold red", markup=False, highlight=False)
        raise typer.Exit(1) from None
    out.print(
        f"AI4I 2020: {evaluation.records} records, stratified {evaluation.folds}-fold "
        f"cross-validation (seed {evaluation.seed}), {evaluation.seconds:.1f} s",
        markup=False,
        highlight=False,
    )
    out.print(
        f"{'target':<6} {'precision':>9} {'recall':>7} {'f1':>6} {'support':>7}",
        markup=False,
        highlight=False,
    )
    for name in (*MODES, "any"):
        score = evaluation.scores[name]
        note = f"  ({NOTES[name]})" if name in NOTES else ""
        out.print(
            f"{name:<6} {score.precision:>9.3f} {score.recall:>7.3f} {score.f1:>6.3f} "
            f"{score.support:>7}{note}",
            markup=False,
            highlight=False,
        )
    if as_json:
        out.print(json.dumps(evaluation.as_dict()), markup=False, highlight=False)

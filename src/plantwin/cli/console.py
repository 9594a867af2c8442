"""The CLI's two consoles and the plant-file problem report shared by its commands."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console

from plantwin.model.problems import PlantFileError

out = Console(soft_wrap=True, emoji=False)  # long lines stay whole in logs and pipes
err = Console(stderr=True, soft_wrap=True, emoji=False)  # ids like urn:x:... stay text


def report_problems(error: PlantFileError, file: Path) -> None:
    """Every problem of a plant file as 'file:line path: message', then the count."""
    for problem in error.problems:
        err.print(problem.render(str(file)), markup=False, highlight=False)
    err.print(f"{len(error.problems)} problem(s) in {file}", style="bold red")

"""The code base stays clean: layering contracts, ruff and mypy run as part of the tests."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def _run(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(a) for a in args], cwd=ROOT, capture_output=True, text=True, timeout=600, check=False
    )


def test_import_layers_follow_the_design() -> None:
    result = _run(BIN / "lint-imports")
    assert result.returncode == 0, result.stdout + result.stderr
    assert " 0 broken" in result.stdout


def test_ruff_lint_and_format_are_clean() -> None:
    lint = _run(BIN / "ruff", "check", "src", "tests", "bench")
    assert lint.returncode == 0, lint.stdout
    fmt = _run(BIN / "ruff", "format", "--check", "src", "tests", "bench")
    assert fmt.returncode == 0, fmt.stdout


@pytest.mark.slow
def test_mypy_strict_is_clean() -> None:
    result = _run(BIN / "mypy")
    assert result.returncode == 0, result.stdout

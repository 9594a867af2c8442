"""`plantwin validate`: every problem with file:line and exit 1; a summary tree when valid."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.conftest import EXAMPLE, ROOT
from tests.model.test_loader import BROKEN


def plantwin(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "plantwin.cli", *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=cwd,
        check=False,
        # This checkout's source, not whichever plantwin the environment has installed.
        env={"COLUMNS": "200", "PATH": "", "PYTHONPATH": str(ROOT / "src")},
    )


def test_validate_prints_the_tree_of_a_valid_file() -> None:
    result = plantwin("validate", str(EXAMPLE))
    assert result.returncode == 0, result.stderr
    assert (
        "Changwon machining demo: 16 twins, 79 signals (8 derived, 3 windowed), "
        "22 rules (20 alarms), 7 commands" in result.stdout
    )
    assert "mill1 (asset cnc_machine) CNC mill 1" in result.stdout


def test_validate_reports_all_problems_and_exits_1(tmp_path: Path) -> None:
    (tmp_path / "machining-line.yaml").write_text(BROKEN)
    result = plantwin("validate", "machining-line.yaml", cwd=tmp_path)
    assert result.returncode == 1
    lines = result.stderr.splitlines()
    assert "machining-line.yaml:10 types.pump.signals.temp.unit: unknown unit 'degC2'" in lines
    located = [line for line in lines if line.startswith("machining-line.yaml:")]
    assert len(located) >= 15
    assert lines[-1] == f"{len(located)} problem(s) in machining-line.yaml"


def test_validate_a_missing_file(tmp_path: Path) -> None:
    result = plantwin("validate", str(tmp_path / "none.yaml"))
    assert result.returncode == 1
    assert "cannot read the file" in result.stderr

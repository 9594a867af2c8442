"""The command line: `validate` (problems with file:line, or a tree) and `replay`."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from tests.conftest import EXAMPLE
from tests.model.test_loader import BROKEN


def _pythonpath() -> dict[str, str]:
    """Keep PYTHONPATH, so a checkout run with PYTHONPATH=src tests its own source."""
    path = os.environ.get("PYTHONPATH")
    return {"PYTHONPATH": path} if path else {}


def plantwin(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "plantwin.cli", *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=cwd,
        check=False,
        env={
            "COLUMNS": "200",
            "PATH": "",
            "OMP_WAIT_POLICY": os.environ["OMP_WAIT_POLICY"],  # set in tests/conftest.py
            **_pythonpath(),
        },
    )


def test_validate_prints_the_tree_of_a_valid_file() -> None:
    result = plantwin("validate", str(EXAMPLE))
    assert result.returncode == 0, result.stderr
    assert (
        "Changwon machining demo: 16 twins, 97 signals (8 derived, 3 windowed), "
        "29 rules (27 alarms), 7 commands" in result.stdout
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


REPLAY_PLANT = EXAMPLE.parent / "replay-line.yaml"
REPLAY_CSV = EXAMPLE.parent / "replay-line.csv"


@pytest.mark.integration
def test_replay_the_example_into_a_store_and_again_without_doubles(tmp_path: Path) -> None:
    store = tmp_path / "replay.duckdb"
    args = ("replay", str(REPLAY_CSV), "--plant", str(REPLAY_PLANT), "--store", str(store))
    first = plantwin(*args)
    assert first.returncode == 0, first.stderr
    lines = first.stdout.splitlines()
    assert lines[0] == f"replayed {REPLAY_CSV} through connector 'recording' into {store}"
    assert "  rows          480" in lines
    assert "  samples       480 read, 600 stored (120 derived, 0 already stored)" in lines
    assert "  dead letters  0" in lines
    assert "  time range    2026-11-20T06:00:00Z .. 2026-11-20T06:09:50Z" in lines
    with duckdb.connect(str(store), read_only=True) as con:
        row = con.execute("SELECT count(*), count(DISTINCT signal) FROM samples").fetchone()
        state = con.execute(
            "SELECT count(*) FROM state_changes_view WHERE twin = 'busan.P1.press2' AND state = 'down'"
        ).fetchone()
    assert row == (600, 10)  # 8 bound press signals + 2 derived loads
    assert state == (1,)  # the twin saw press 2 go down
    again = plantwin(*args, "--speed", "max")
    assert again.returncode == 0, again.stderr
    assert "480 read, 0 stored (120 derived, 600 already stored)" in again.stdout


def test_replay_reports_bad_rows_with_their_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "time,tag,value,quality\n"
        "2026-11-20T06:00:00Z,press1.power,1.5,good\n"
        "2026-11-20T06:00:10Z,press1.power,lots,good\n"
    )
    result = plantwin(
        "replay", str(bad), "--plant", str(REPLAY_PLANT), "--store", str(tmp_path / "b.duckdb")
    )
    assert result.returncode == 0, result.stderr
    assert "  dead letters  1" in result.stdout
    assert "  dead letter   bad.csv:3: value (value) 'lots' is not a number" in result.stdout


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (("--mapping", "time_column=when"), "has no column 'when' (time_column)"),
        (("--mapping", "time_formt=ms"), "time_formt: unknown option; did you mean 'time_format'?"),
        (("--mapping", "nonsense"), "--mapping 'nonsense' is not KEY=VALUE"),
        (("--speed", "fast"), "'fast' is not a speed"),
        (
            ("--connector", "gateway"),
            "connector 'gateway' is of kind http; replay connectors: recording",
        ),
    ],
)
def test_replay_with_a_bad_mapping_says_why(
    tmp_path: Path, extra: tuple[str, ...], message: str
) -> None:
    store = tmp_path / "x.duckdb"
    result = plantwin(
        "replay", str(REPLAY_CSV), "--plant", str(REPLAY_PLANT), "--store", str(store), *extra
    )
    assert result.returncode != 0
    assert message in result.stderr.replace("\n", "")


def test_replay_a_missing_file(tmp_path: Path) -> None:
    result = plantwin("replay", str(tmp_path / "none.csv"), "--plant", str(REPLAY_PLANT))
    assert result.returncode == 1
    assert f"error: replay file '{tmp_path / 'none.csv'}' does not exist" in result.stderr

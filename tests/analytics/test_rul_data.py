"""Reading C-MAPSS files: bad input is refused with the file and line, and `plantwin eval
cmapss` exits 1 with that message."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from plantwin.analytics.rul.data import load_subset
from plantwin.core.errors import AnalyticsError
from tests.test_cli import plantwin

ROW = "1 {cycle} -0.0007 -0.0004 100.0 " + " ".join(["518.67"] * 21) + "\n"


def _write_subset(folder: Path, *, engines: int = 2, rul_lines: int = 2) -> Path:
    folder.mkdir(exist_ok=True)
    rows = "".join(
        ROW.replace("1 ", f"{u} ", 1).format(cycle=c)
        for u in range(1, engines + 1)
        for c in (1, 2, 3)
    )
    (folder / "train_FD001.txt").write_text(rows)
    (folder / "test_FD001.txt").write_text(rows)
    (folder / "RUL_FD001.txt").write_text("".join(f"{10 * i}\n" for i in range(rul_lines)))
    return folder


def test_a_well_formed_subset_loads(tmp_path: Path) -> None:
    data = load_subset(_write_subset(tmp_path / "d"), "fd001")
    assert data.name == "FD001"
    assert data.train.sensors.shape == (6, 21)
    assert data.test.last_rows().tolist() == [2, 5]
    assert data.true_rul.tolist() == [0.0, 10.0]


def test_missing_directory(tmp_path: Path) -> None:
    with pytest.raises(AnalyticsError, match="does not exist"):
        load_subset(tmp_path / "nowhere", "FD001")


def test_missing_file_is_named(tmp_path: Path) -> None:
    folder = _write_subset(tmp_path / "d")
    (folder / "test_FD001.txt").unlink()
    with pytest.raises(AnalyticsError, match=r"test_FD001\.txt' does not exist"):
        load_subset(folder, "FD001")


def test_wrong_column_count_gives_file_and_line(tmp_path: Path) -> None:
    folder = _write_subset(tmp_path / "d")
    lines = (folder / "train_FD001.txt").read_text().splitlines(keepends=True)
    lines[3] = "2 1 0.0 0.0 100.0 1.0 2.0\n"
    (folder / "train_FD001.txt").write_text("".join(lines))
    with pytest.raises(AnalyticsError, match=r"train_FD001\.txt:4: 7 columns, expected 26"):
        load_subset(folder, "FD001")


def test_text_in_a_number_column(tmp_path: Path) -> None:
    folder = _write_subset(tmp_path / "d")
    (folder / "RUL_FD001.txt").write_text("12\nabc\n")
    with pytest.raises(AnalyticsError, match=r"RUL_FD001\.txt:2: a value is not a number"):
        load_subset(folder, "FD001")


def test_rul_count_must_match_the_test_engines(tmp_path: Path) -> None:
    folder = _write_subset(tmp_path / "d", rul_lines=3)
    with pytest.raises(AnalyticsError, match="3 values for 2 test engines"):
        load_subset(folder, "FD001")


def test_unknown_subset(tmp_path: Path) -> None:
    with pytest.raises(AnalyticsError, match="unknown C-MAPSS subset 'FD009'"):
        load_subset(_write_subset(tmp_path / "d"), "FD009")


def test_cli_exits_1_on_a_missing_file(tmp_path: Path) -> None:
    folder = _write_subset(tmp_path / "d")
    shutil.move(folder / "RUL_FD001.txt", tmp_path / "elsewhere.txt")
    result = plantwin("eval", "cmapss", "--data", str(folder), "--subset", "FD001")
    assert result.returncode == 1
    assert "RUL_FD001.txt' does not exist" in result.stderr
    assert "Traceback" not in result.stderr

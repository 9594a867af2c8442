"""`plantwin eval anomalies`: figures against hand-counted files, and clear errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from plantwin.analytics.anomaly.evaluation import detection_delays, evaluate_folder
from plantwin.analytics.anomaly.labelled import LabelledDataError, load_labelled

FIT = 200
CENTRE = np.array([5.0, -2.0, 100.0])
START = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)


def write_file(path: Path, scored: list[tuple[str, int, int]], *, sep: str, step_s: int) -> None:
    """FIT healthy rows (noise pairs around CENTRE, so their mean is exactly CENTRE), then one
    row per ``(kind, anomaly, changepoint)``: kind "calm" sits on the centre (never flagged),
    "wild" is 10^4 standard deviations off (always flagged)."""
    noise = np.random.default_rng(len(scored)).normal(size=(FIT // 2, 3))
    fit = np.concatenate([CENTRE + noise, CENTRE - noise])
    rows = [(*values, 0, 0) for values in fit]
    for kind, anomaly, changepoint in scored:
        values = CENTRE + (1e4 if kind == "wild" else 0.0)
        rows.append((*values, anomaly, changepoint))
    lines = [sep.join(["datetime", "s1", "s2", "s3", "anomaly", "changepoint"])]
    for n, (a, b, c, anomaly, changepoint) in enumerate(rows):
        moment = (START + timedelta(seconds=n * step_s)).strftime("%Y-%m-%d %H:%M:%S")
        lines.append(
            sep.join([moment, *(repr(float(v)) for v in (a, b, c)), str(anomaly), str(changepoint)])
        )
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


# file a (';', 1 s): anomaly opens at its changepoint, detected 2 rows later; 1 false alarm
A = (
    [("calm", 0, 0)] * 10
    + [("calm", 1, 1), ("calm", 1, 0), ("wild", 1, 0), ("wild", 1, 0)]
    + [("calm", 0, 1), ("wild", 0, 0)]
    + [("calm", 0, 0)] * 5
)
# file b (',', 10 s): one anomaly found at once (delay 0), one never found
B = (
    [("calm", 0, 0)] * 4
    + [("wild", 1, 1), ("wild", 1, 0), ("calm", 1, 0)]
    + [("calm", 0, 1)] * 1
    + [("calm", 0, 0)] * 3
    + [("calm", 1, 1), ("calm", 1, 0)]
    + [("calm", 0, 1)]
)
# hand counts over both files: TP wild&1, FP wild&0, FN calm&1, TN calm&0
TP, FP, FN = 2 + 2, 1, 2 + 1 + 2
TN = (10 + 1 + 5) + (4 + 1 + 3 + 1)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    write_file(tmp_path / "a.csv", A, sep=";", step_s=1)
    (tmp_path / "valve").mkdir()
    write_file(tmp_path / "valve" / "b.csv", B, sep=",", step_s=10)
    return tmp_path


@pytest.mark.parametrize("name", ["pca", "pca-empirical", "iforest"])
def test_figures_match_the_hand_counts(folder: Path, name: str) -> None:
    result = evaluate_folder(folder, fit_rows=FIT, detectors=[name]).results[0]
    c = result.counts
    assert (c.tp, c.fp, c.fn, c.tn) == (TP, FP, FN, TN)
    assert c.precision == pytest.approx(TP / (TP + FP))
    assert c.recall == pytest.approx(TP / (TP + FN))
    assert c.f1 == pytest.approx(2 * TP / (2 * TP + FP + FN))
    assert result.false_alarm_rate == pytest.approx(FP / (FP + TN))
    assert result.missed_alarm_rate == pytest.approx(FN / (FN + TP))
    # changepoints opening an anomaly: a (2 rows = 2 s), b first (0 s), b second (missed)
    assert sorted(result.delays.seconds) == [0.0, 2.0]
    assert result.delays.missed == 1
    assert result.delays.median_s() == pytest.approx(1.0)


def test_delays_count_only_changepoints_that_open_an_anomaly() -> None:
    flagged = np.array([0, 0, 1, 0, 0, 1, 0, 0], dtype=bool)
    anomaly = np.array([0, 1, 1, 0, 0, 0, 1, 1], dtype=bool)
    changepoint = np.array([0, 1, 0, 1, 0, 0, 1, 0], dtype=bool)
    delays = detection_delays(flagged, anomaly, changepoint, np.arange(8, dtype=np.float64) * 5.0)
    assert delays.rows == [1]  # row 3 closes an anomaly: the flag at 5 is not a detection
    assert delays.seconds == [5.0]
    assert delays.missed == 1  # row 6: no flag before the end


def test_cli_prints_the_table_and_ends_with_json(folder: Path) -> None:
    env = {"COLUMNS": "200", "PATH": ""}
    if "PYTHONPATH" in os.environ:
        env["PYTHONPATH"] = os.environ["PYTHONPATH"]
    args = ["eval", "anomalies", "--data", str(folder), "--fit-rows", str(FIT), "--json"]
    result = subprocess.run(
        [sys.executable, "-m", "plantwin.cli", *args, "--detector", "pca"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env=env,
    )
    assert result.returncode == 0, result.stderr
    assert "2 file(s), fitted on the first 200 rows" in result.stdout
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    pca = figures["detectors"]["pca"]
    assert (pca["tp"], pca["fp"], pca["fn"], pca["tn"]) == (TP, FP, FN, TN)
    assert pca["median_delay_s"] == pytest.approx(1.0)
    assert pca["changepoints"] == 3
    assert figures["rows_scored"] == len(A) + len(B)


def _csv(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "bad.csv"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("datetime;s1;anomaly\n2026-01-01 00:00:00;1;0\n", r"bad.csv:1: missing column\(s\) changepoint"),
        ("datetime,s1,anomaly,changepoint\n2026-01-01 00:00:00,1,0,0\n2026-01-01 00:00:01,abc,0,0\n",
         r"bad.csv:3: column s1: 'abc' is not a number"),
        ("datetime;s1;anomaly;changepoint\n2026-01-01 00:00:00;1;2;0\n",
         r"bad.csv:2: column anomaly: '2' is not 0 or 1"),
        ("datetime;s1;anomaly;changepoint\nyesterday;1;0;0\n", r"bad.csv:2: datetime 'yesterday' is not"),
        ("datetime;s1;anomaly;changepoint\n2026-01-01 00:00:00;1;0\n", r"bad.csv:2: 3 fields, the header has 4"),
        ("datetime;s1;anomaly;changepoint\n2026-01-01 00:00:00;nan;0;0\n", r"bad.csv:2: column s1: 'nan' is not a finite"),
        ("datetime;anomaly;changepoint\n", r"bad.csv:1: no sensor columns"),
    ],
)  # fmt: skip
def test_bad_files_name_file_and_line(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(LabelledDataError, match=message):
        load_labelled(_csv(tmp_path, text))


def test_cli_reports_a_bad_file_and_fails(tmp_path: Path) -> None:
    _csv(tmp_path, "datetime;s1;anomaly;changepoint\n2026-01-01 00:00:00;x;0;0\n")
    env = {"COLUMNS": "200", "PATH": ""}
    if "PYTHONPATH" in os.environ:
        env["PYTHONPATH"] = os.environ["PYTHONPATH"]
    result = subprocess.run(
        [sys.executable, "-m", "plantwin.cli", "eval", "anomalies", "--data", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env=env,
    )
    assert result.returncode == 1
    assert "bad.csv:2: column s1: 'x' is not a number" in result.stderr


def test_a_file_shorter_than_the_fit_is_an_error(folder: Path) -> None:
    with pytest.raises(LabelledDataError, match=r"a.csv: 221 rows, need more than --fit-rows 500"):
        evaluate_folder(folder, fit_rows=500, detectors=["pca"])

"""Loading the AI4I CSV: columns, derived features, and bad input named by file and line."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from plantwin.analytics.failures.data import DatasetError, load_ai4i
from plantwin.analytics.failures.features import FEATURES, features

HEADER = (
    "UDI,Product ID,Type,Air temperature [K],Process temperature [K],Rotational speed [rpm],"
    "Torque [Nm],Tool wear [min],Machine failure,TWF,HDF,PWF,OSF,RNF"
)
ROWS = (
    "1,M14860,M,298.1,308.6,1551,42.8,0,0,0,0,0,0,0",
    "2,L47181,L,298.2,308.7,1408,46.3,215,1,0,0,0,1,0",
    "3,H29424,H,302.0,309.5,1300,20.0,10,1,0,1,0,0,0",
)


def write(tmp_path: Path, *lines: str, bom: bool = True) -> Path:
    path = tmp_path / "ai4i.csv"
    path.write_text(("\ufeff" if bom else "") + "\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_reads_columns_types_and_labels(tmp_path: Path) -> None:
    data = load_ai4i(write(tmp_path, HEADER, *ROWS))
    assert len(data) == 3
    assert data.type_code.tolist() == [1, 0, 2]  # M, L, H
    assert data.speed.tolist() == [1551.0, 1408.0, 1300.0]
    assert data.labels["OSF"].tolist() == [False, True, False]
    assert data.labels["HDF"].tolist() == [False, False, True]
    assert data.labels["Machine failure"].tolist() == [False, True, True]


def test_derived_features_follow_the_physical_rules(tmp_path: Path) -> None:
    x = features(load_ai4i(write(tmp_path, HEADER, *ROWS)))
    column = {name: x[:, i] for i, name in enumerate(FEATURES)}
    assert column["temperature_difference_k"][2] == pytest.approx(7.5)
    assert column["power_w"][0] == pytest.approx(42.8 * 1551 * 2 * math.pi / 60)  # ~6952 W
    assert column["overstrain_min_nm"][1] == pytest.approx(215 * 46.3)  # 9954.5
    # type L's limit is 11,000 min*Nm; row 3 is type H (13,000)
    assert column["overstrain_ratio"][1] == pytest.approx(9954.5 / 11_000)
    assert column["overstrain_ratio"][2] == pytest.approx(200 / 13_000)
    assert np.isfinite(x).all()


def test_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match=r"nope\.csv does not exist"):
        load_ai4i(tmp_path / "nope.csv")


def test_missing_columns_are_listed(tmp_path: Path) -> None:
    header = HEADER.replace(",Torque [Nm]", "").replace(",RNF", "")
    with pytest.raises(DatasetError, match=r"ai4i\.csv:1: missing column\(s\) Torque \[Nm\], RNF"):
        load_ai4i(write(tmp_path, header, "1,M1,M,298,308,1500,0,0,0,0,0,0"))


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("2,X1,X,298,308,1500,40,0,0,0,0,0,0,0", r":3: Type 'X' is not one of L, M, H"),
        ("2,M1,M,298,hot,1500,40,0,0,0,0,0,0,0", r":3: Process temperature \[K\] 'hot' is not"),
        ("2,M1,M,298,308,1500,40,0,2,0,0,0,0,0", r":3: Machine failure '2' is not 0 or 1"),
        ("2,M1,M,298,308,1500", r":3: 6 fields, the header has 14"),
    ],
)
def test_bad_row_is_named_by_line(tmp_path: Path, row: str, message: str) -> None:
    with pytest.raises(DatasetError, match=message):
        load_ai4i(write(tmp_path, HEADER, ROWS[0], row))


def test_header_only_and_empty_files_are_errors(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="no data rows"):
        load_ai4i(write(tmp_path, HEADER))
    empty = tmp_path / "empty.csv"
    empty.write_text("\n\n", encoding="utf-8")
    with pytest.raises(DatasetError, match=r"empty\.csv: empty file"):
        load_ai4i(empty)


def test_blank_lines_are_skipped_and_line_numbers_kept(tmp_path: Path) -> None:
    path = write(tmp_path, HEADER, ROWS[0], "", "2,M1,M,298,308,1500,40,0,0,0,0,0,x,0")
    with pytest.raises(DatasetError, match=r"ai4i\.csv:4: OSF 'x' is not a number"):
        load_ai4i(path)

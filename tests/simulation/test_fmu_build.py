"""Building a source FMU for this machine, and the errors when that cannot work."""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

import pytest

from plantwin.core.errors import SimulationError
from plantwin.model.fmu_description import read_description
from plantwin.simulation.fmu.build import build_fmu, main
from tests.fmu_support import THERMAL_SOURCE


def test_built_fmu_has_a_binary_for_this_machine(thermal_fmu: Path) -> None:
    description = read_description(thermal_fmu)
    assert description.binary
    assert description.sources  # the C source stays in the FMU
    assert description.fmi_version == "2.0"
    assert set(description.variables) == {"P", "T_amb", "T", "k", "tau", "T_start"}
    with zipfile.ZipFile(thermal_fmu) as archive:
        assert any(n.startswith("binaries/") and n.endswith(".so") for n in archive.namelist())


def test_a_folder_without_model_description_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SimulationError, match="not a source FMU"):
        build_fmu(tmp_path, tmp_path / "x.fmu")
    assert main([str(tmp_path), str(tmp_path / "x.fmu")]) == 1
    assert main([]) == 2


def test_a_compile_error_is_reported_and_writes_nothing(tmp_path: Path) -> None:
    source = tmp_path / "broken"
    shutil.copytree(THERMAL_SOURCE, source)
    (source / "sources" / "thermal.c").write_text("this is not C\n")
    out = tmp_path / "broken.fmu"
    with pytest.raises(SimulationError, match="building the FMU failed"):
        build_fmu(source, out)
    assert not out.exists()

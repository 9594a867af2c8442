"""Shared fixtures and the rule for tests that need a real server."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import settings

from plantwin.model.loader import load_plant
from plantwin.model.plant import Plant

# OpenMP threads (LightGBM, scikit-learn) that wait by spinning take the cores from everything
# else on a shared 2-core machine: under load a 60-tree LightGBM fit took 36 s of CPU instead
# of 1.3 s. Set before any test imports them; subprocesses inherit it.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

# No per-example deadline: CI shares two cores with servers, and a slow example is not a bug.
settings.register_profile("plantwin", deadline=None)
settings.load_profile("plantwin")

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "machining-line.yaml"


def require_service(name: str, reason: str) -> None:
    """Skip with a clear reason, or fail when PLANTWIN_REQUIRE_SERVICES=1 (as in CI)."""
    message = f"{name} is not reachable: {reason}"
    if os.environ.get("PLANTWIN_REQUIRE_SERVICES") == "1":
        pytest.fail(f"{message} (PLANTWIN_REQUIRE_SERVICES=1 makes this a failure)")
    pytest.skip(message)


@pytest.fixture(scope="session")
def example_plant() -> Plant:
    return load_plant(EXAMPLE)


@pytest.fixture(scope="session")
def thermal_fmu(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """examples/fmu/thermal compiled for this machine, once per session (about 1 s)."""
    from tests.fmu_support import build_thermal  # noqa: PLC0415 - FMPy only where needed

    return build_thermal(tmp_path_factory.mktemp("fmu") / "thermal.fmu")


@pytest.fixture(scope="session")
def thermal3_fmu(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The same model as an FMI 3.0 FMU (tests/fmu3_thermal), built once per session."""
    from plantwin.simulation.fmu.build import build_fmu  # noqa: PLC0415 - FMPy only where needed

    source = Path(__file__).parent / "fmu3_thermal"
    return build_fmu(source, tmp_path_factory.mktemp("fmu3") / "thermal3.fmu")

"""Fixtures for the demo-plant tests: the plant it simulates and one shared simulated day."""

from __future__ import annotations

import pytest

from plantwin.model.loader import load_plant
from plantwin.model.plant import Plant
from plantwin.simulation.demo_plant import DemoLine
from tests.simulation.support import DAY, PLANT_FILE, START, Readings


@pytest.fixture(scope="session")
def demo_plant_model() -> Plant:
    return load_plant(PLANT_FILE)


@pytest.fixture(scope="session")
def day_run(demo_plant_model: Plant) -> tuple[DemoLine, Readings]:
    """One simulated day with the default settings and seed (shared; do not write to it)."""
    line = DemoLine(plant=demo_plant_model, seed=7, start_ns=START)
    return line, Readings.of(line.run(DAY))

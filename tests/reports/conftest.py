"""A simulated demo day in a DuckDB file, made once per test session (about 10 s)."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import pytest

from tests.reports.demo_day import simulate_day


@pytest.fixture(scope="session")
def demo_day_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("demo-day") / "day.duckdb"
    asyncio.run(simulate_day(path))  # a session fixture runs outside the tests' event loops
    return path


@pytest.fixture
def demo_store_file(demo_day_file: Path, tmp_path: Path) -> Path:
    """A private copy: a report stores closed KPI periods, so tests do not share writes."""
    copy = tmp_path / "day.duckdb"
    shutil.copy(demo_day_file, copy)
    return copy

"""Fixtures of the runtime tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.runtime.demo_process import kill_leftovers


@pytest.fixture(autouse=True)
def no_demo_left_running() -> Iterator[None]:
    """A test that fails before stopping its `plantwin demo` must not leave it running
    (it would hold its store file and ports, and the CPU, for the rest of the suite)."""
    yield
    kill_leftovers()

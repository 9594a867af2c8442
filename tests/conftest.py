"""Shared fixtures and the rule for tests that need a real server."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from plantwin.model.loader import load_plant
from plantwin.model.plant import Plant

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

"""Fixtures of the store tests: one store per backend of the contract suite."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from plantwin.core.store import Store

from .backends import BACKENDS, PERSISTENT, Backend, make_backend


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    name: str = request.param
    return make_backend(name, tmp_path)


@pytest.fixture(params=PERSISTENT)
def persistent(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    """Backends whose data survives a restart; restart tests run only over these."""
    name: str = request.param
    return make_backend(name, tmp_path)


@pytest.fixture
async def store(backend: Backend) -> AsyncIterator[Store]:
    async with backend.make() as opened:
        yield opened

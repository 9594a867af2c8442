"""Newer registered model versions reach the running prediction stages without a restart.

The RUL and prediction stages each say which model names they use and the version in use
(:class:`ModelUser`). :class:`ModelWatcher` asks the registry for the newest version of each
name at start, every ``every`` wall seconds after, and at once when told a model was just
registered in this process (``check()``, e.g. by the demo's trainer); a newer version is
loaded and handed over. A version a stage refuses (other features, another kind) or that
cannot be loaded (its artifact is missing or altered) is logged once and not tried again;
the stage keeps the one it has.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from typing import Protocol

from plantwin.analytics.registry import LoadedModel, ModelRegistry
from plantwin.core.errors import AnalyticsError
from plantwin.core.models import ModelInfo

log = logging.getLogger(__name__)


class ModelUser(Protocol):
    """A stage predicting with registered models."""

    def versions(self) -> dict[str, int]:
        """Each model name it uses, with the version in use (0: none yet)."""
        ...

    def use(self, loaded: LoadedModel) -> None:
        """Predict with this version from now on; AnalyticsError if it cannot."""
        ...


class ModelWatcher:
    """Hands the newest registered version of each used model name to its users."""

    def __init__(self, registry: ModelRegistry, users: Sequence[ModelUser]) -> None:
        self.registry = registry
        self.users = list(users)
        self._refused: set[tuple[str, int]] = set()
        self._missing: set[str] = set()  # names reported as not registered (logged once)
        self._lock = asyncio.Lock()

    async def check(self) -> list[ModelInfo]:
        """Hand over every newer version now; the versions taken into use."""
        taken: list[ModelInfo] = []
        async with self._lock:  # the periodic check and a trainer's call may meet
            for user in self.users:
                for name, current in user.versions().items():
                    info = await self._newer(name, current)
                    if info is None:
                        continue
                    try:  # a missing or altered artifact: as a version the stage refuses
                        loaded = await self.registry.load(name, info.version)
                        user.use(loaded)
                    except AnalyticsError as err:
                        self._refused.add((name, info.version))
                        log.warning("model %s is not used: %s", info.ref, err)
                        continue
                    log.info("predictions now from model %s", info.ref)
                    taken.append(info)
        return taken

    async def _newer(self, name: str, current: int) -> ModelInfo | None:
        found = await self.registry.list(name)
        if not found:
            if name not in self._missing:
                self._missing.add(name)
                log.warning(
                    "model %r is not registered: its signals stay empty until it is "
                    "(plantwin models train-rul / plantwin eval scrap --register)",
                    name,
                )
            return None
        newest = found[-1]
        if newest.version <= current or (name, newest.version) in self._refused:
            return None
        return newest

    async def run(self, stop: asyncio.Event, every: float) -> None:
        """Check every ``every`` seconds until ``stop``; a failed check is logged and retried."""
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), every)
            if stop.is_set():
                return
            try:
                await self.check()
            except Exception:  # the store or an artifact failed: keep the models in use
                log.exception("checking the model registry for new versions failed")

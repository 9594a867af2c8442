"""ModelRegistry: registers fitted models as numbered versions in the store, and loads them.

Versions count 1, 2, 3 ... per name and are never replaced: the store refuses any version but
the next, so two trainers racing for the same name cannot both win. Artifacts are
pickles of the fitted object (a LightGBM booster, a scikit-learn estimator, a dict of them);
loading checks their SHA-256 first. Pickles run code when loaded: load only from your own
store, never from a file someone else handed you.
"""

from __future__ import annotations

import hashlib
import pickle
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from plantwin.core.errors import AnalyticsError
from plantwin.core.models import ModelInfo, ParamValue
from plantwin.core.store import ModelStore


class ModelNotFoundError(AnalyticsError):
    """No such model name, or no such version of it."""


@dataclass(frozen=True, slots=True, kw_only=True)
class LoadedModel:
    info: ModelInfo
    model: object  # the fitted object exactly as registered


def dumps(model: object) -> bytes:
    return pickle.dumps(model, protocol=pickle.HIGHEST_PROTOCOL)


class ModelRegistry:
    """Registered models of one store. ``now_ns`` stamps ``created`` (plant clock in a twin)."""

    def __init__(self, store: ModelStore, *, now_ns: Callable[[], int] | None = None) -> None:
        self.store = store
        self._now = time.time_ns if now_ns is None else now_ns

    async def register(
        self,
        name: str,
        model: object,
        *,
        kind: str,
        data_start: int,
        data_end: int,
        data_sources: Sequence[str] = (),
        features: Sequence[str] = (),
        metrics: Mapping[str, float] | None = None,
        params: Mapping[str, ParamValue] | None = None,
    ) -> ModelInfo:
        """Store ``model`` as the next version of ``name``; the stored record is returned."""
        artifact = dumps(model)
        newest = await self.store.models(name)
        info = ModelInfo(
            name=name,
            version=newest[-1].version + 1 if newest else 1,
            kind=kind,
            created=self._now(),
            data_start=data_start,
            data_end=data_end,
            data_sources=tuple(data_sources),
            features=tuple(features),
            metrics={k: float(v) for k, v in (metrics or {}).items()},
            params=dict(params or {}),
            sha256=hashlib.sha256(artifact).hexdigest(),
            size=len(artifact),
        )
        await self.store.put_model(info, artifact)
        return info

    async def list(self, name: str | None = None) -> list[ModelInfo]:
        """Every version (of ``name``), by name, then version."""
        return await self.store.models(name)

    async def info(self, name: str, version: int | None = None) -> ModelInfo:
        """One version's record (the newest without ``version``)."""
        found = await self.store.models(name)
        if not found:
            msg = f"no model {name!r} is registered"
            raise ModelNotFoundError(msg)
        if version is None:
            return found[-1]
        for info in found:
            if info.version == version:
                return info
        known = ", ".join(str(i.version) for i in found)
        msg = f"model {name!r} has no version {version} (versions: {known})"
        raise ModelNotFoundError(msg)

    async def load(self, name: str, version: int | None = None) -> LoadedModel:
        """The fitted object of one version (the newest without ``version``)."""
        info = await self.info(name, version)
        artifact = await self.store.model_artifact(info.name, info.version)
        if artifact is None or hashlib.sha256(artifact).hexdigest() != info.sha256:
            msg = f"model {info.ref}: its artifact is missing or does not match its SHA-256"
            raise AnalyticsError(msg)
        model = pickle.loads(artifact)  # noqa: S301 - our own store, digest checked
        return LoadedModel(info=info, model=model)


def info_dict(info: ModelInfo) -> dict[str, object]:
    """A record as plain JSON-ready data (the CLI's --json and the API use the same fields)."""
    return {
        "name": info.name,
        "version": info.version,
        "kind": info.kind,
        "created": info.created,
        "data_start": info.data_start,
        "data_end": info.data_end,
        "data_sources": list(info.data_sources),
        "features": list(info.features),
        "metrics": dict(info.metrics),
        "params": dict(info.params),
        "sha256": info.sha256,
        "size": info.size,
    }

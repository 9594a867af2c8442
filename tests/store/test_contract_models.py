"""The store contract, model registry part: every backend keeps model versions the same way."""

from __future__ import annotations

import hashlib
from dataclasses import replace

import pytest

from plantwin.core.errors import StoreError
from plantwin.core.models import ModelInfo
from plantwin.core.store import Store

from .backends import Backend


def info(name: str, version: int, artifact: bytes, **kw: object) -> ModelInfo:
    base = ModelInfo(
        name=name,
        version=version,
        kind="test.kind",
        created=1_000 + version,
        data_start=10,
        data_end=20,
        data_sources=("plant/L1/M1",),
        features=("a", "b"),
        metrics={"mae": 1.5},
        params={"window": 60, "loss": "quantile", "alpha": 0.1, "scaled": True},
        sha256=hashlib.sha256(artifact).hexdigest(),
        size=len(artifact),
    )
    return replace(base, **kw)  # type: ignore[arg-type]


async def test_versions_are_listed_by_name_then_version(store: Store) -> None:
    assert await store.models() == []
    b1, a1, a2 = info("b", 1, b"x"), info("a", 1, b"one"), info("a", 2, b"two\x00")
    for record, artifact in ((b1, b"x"), (a1, b"one"), (a2, b"two\x00")):
        await store.put_model(record, artifact)
    assert await store.models() == [a1, a2, b1]
    assert await store.models("a") == [a1, a2]
    assert await store.models("nope") == []
    assert await store.model_artifact("a", 2) == b"two\x00"
    assert await store.model_artifact("a", 3) is None


async def test_only_the_next_version_is_accepted(store: Store) -> None:
    with pytest.raises(StoreError, match="next version of 'm' is 1, not 2"):
        await store.put_model(info("m", 2, b"z"), b"z")
    await store.put_model(info("m", 1, b"z"), b"z")
    with pytest.raises(StoreError, match="next version of 'm' is 2, not 1"):
        await store.put_model(info("m", 1, b"other"), b"other")  # never replaced
    assert await store.model_artifact("m", 1) == b"z"


async def test_bad_model_records_are_refused(store: Store) -> None:
    with pytest.raises(StoreError, match="model name 'Bad Name' is not allowed"):
        await store.put_model(info("Bad Name", 1, b"z"), b"z")
    with pytest.raises(StoreError, match="do not describe the artifact"):
        await store.put_model(info("m", 1, b"z"), b"tampered")
    with pytest.raises(StoreError, match="metric 'mae' is nan"):
        await store.put_model(info("m", 1, b"z", metrics={"mae": float("nan")}), b"z")
    with pytest.raises(StoreError, match=r"ends \(20\) before it starts"):
        await store.put_model(info("m", 1, b"z", data_start=30), b"z")
    assert await store.models() == []


async def test_models_survive_a_restart(persistent: Backend) -> None:
    record = info("m", 1, b"blob")
    async with persistent.make() as store:
        await store.put_model(record, b"blob")
    async with persistent.make() as store:
        assert await store.models() == [record]
        assert await store.model_artifact("m", 1) == b"blob"

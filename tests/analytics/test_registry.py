"""The model registry over a real store: versions, round trip of fitted models, look-ups."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest
from sklearn.linear_model import LinearRegression

from plantwin.analytics.registry import ModelNotFoundError, ModelRegistry
from plantwin.core.errors import AnalyticsError
from plantwin.store import DuckDBStore, MemoryStore


async def test_versions_count_up_and_fitted_models_round_trip(tmp_path: Path) -> None:
    x = np.arange(10.0).reshape(-1, 1)
    async with DuckDBStore(path=tmp_path / "r.duckdb") as store:
        registry = ModelRegistry(store, now_ns=lambda: 42)
        first = await registry.register(
            "lin", LinearRegression().fit(x, 2 * x[:, 0]), kind="sklearn",
            data_start=0, data_end=10, features=("x",), metrics={"mae": 0.0},
        )  # fmt: skip
        second = await registry.register(
            "lin", LinearRegression().fit(x, 3 * x[:, 0]), kind="sklearn",
            data_start=0, data_end=20, features=("x",), params={"note": "refit"},
        )  # fmt: skip
    assert (first.version, second.version, first.created) == (1, 2, 42)
    assert second.ref == "lin@2"
    async with DuckDBStore(path=tmp_path / "r.duckdb") as store:
        registry = ModelRegistry(store)
        newest = await registry.load("lin")
        older = await registry.load("lin", 1)
        assert newest.info == second
        assert isinstance(newest.model, LinearRegression)
        assert isinstance(older.model, LinearRegression)
        assert newest.model.predict([[2.0]])[0] == pytest.approx(6.0)
        assert older.model.predict([[2.0]])[0] == pytest.approx(4.0)
        artifact = await store.model_artifact("lin", 2)
        assert artifact is not None
        assert hashlib.sha256(artifact).hexdigest() == second.sha256


async def test_unknown_names_and_versions_say_what_exists() -> None:
    async with MemoryStore() as store:
        registry = ModelRegistry(store)
        with pytest.raises(ModelNotFoundError, match="no model 'x' is registered"):
            await registry.info("x")
        await registry.register("x", {"a": 1}, kind="dict", data_start=0, data_end=1)
        with pytest.raises(ModelNotFoundError, match=r"no version 5 \(versions: 1\)"):
            await registry.load("x", 5)
        assert (await registry.load("x")).model == {"a": 1}


async def test_a_tampered_artifact_is_not_loaded() -> None:
    async with MemoryStore() as store:
        registry = ModelRegistry(store)
        info = await registry.register("x", [1, 2], kind="list", data_start=0, data_end=1)
        store._models["x", 1] = (info, b"evil")  # what a corrupted or edited store would hold
        with pytest.raises(AnalyticsError, match="does not match its SHA-256"):
            await registry.load("x")

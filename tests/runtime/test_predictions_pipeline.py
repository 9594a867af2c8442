"""Prediction signals through the real pipeline: a registered model's output lands in the store."""

from __future__ import annotations

import asyncio
from pathlib import Path

import numpy as np
import pytest

from plantwin.analytics.quality.features import part_table
from plantwin.analytics.quality.model import fit_scrap_model
from plantwin.analytics.registry import ModelRegistry
from plantwin.bus.memory import MemoryBus
from plantwin.core import ManualClock
from plantwin.core.store import HistoryQuery
from plantwin.ingest import Ingestor
from plantwin.model.catalog import SignalCatalog
from plantwin.model.plant import Plant
from plantwin.processing.processor import RuleProcessor
from plantwin.runtime.demo_history import demo_history
from plantwin.runtime.pipeline import Pipeline
from plantwin.runtime.prediction_study import DEMO_LAYOUT, ModelRecord, register
from plantwin.runtime.predictions import chain, prediction_stage
from plantwin.simulation.demo_plant.connector import DemoPlant
from plantwin.store import DuckDBStore
from plantwin.twin import TwinState
from tests.helpers import T0, S

TARGET = "changwon.L1/scrap_probability"


@pytest.mark.slow
async def test_scrap_probability_is_stored_every_10_s(example_plant: Plant, tmp_path: Path) -> None:
    keys = [
        *DEMO_LAYOUT.feature_keys(),
        *(f"{m}/part_count" for m in DEMO_LAYOUT.machines),
        f"{DEMO_LAYOUT.inspection}/good_count",
        f"{DEMO_LAYOUT.inspection}/scrap_count",
    ]
    run = demo_history(example_plant, keys, seed=1, days=2)
    table = part_table(run.history, DEMO_LAYOUT)
    model = fit_scrap_model(table.x, table.scrap, table.names, seed=1)
    record = ModelRecord(
        name="scrap_probability", kind="lightgbm+isotonic", train_start_ns=run.history.start_ns,
        train_end_ns=run.history.end_ns, features=DEMO_LAYOUT.feature_keys(), metrics={},
        params={},
    )  # fmt: skip
    clock = ManualClock(T0)
    async with DuckDBStore(path=tmp_path / "p.duckdb") as store, MemoryBus() as bus:
        await register(ModelRegistry(store), model, record)
        ids = await store.register_signals(list(example_plant.signals))
        catalog = SignalCatalog(example_plant, ids)
        twin = TwinState(example_plant, catalog)
        demo = DemoPlant(plant=example_plant, clock=clock, seed=11, start_ns=T0, poll_s=60)
        async with demo:
            pipeline = Pipeline(
                ingestor=Ingestor(catalog, clock),
                twin=twin,
                store=store,
                bus=bus,
                connectors=[demo],
                processor=RuleProcessor(twin, catalog, start_ns=T0),
                health=chain(None, await prediction_stage(catalog, store)),
            )
            stop = asyncio.Event()
            runner = asyncio.create_task(pipeline.run(stop))
            while demo.line.now_ns < T0 + 2 * 3600 * S:  # noqa: ASYNC110 - virtual time
                await asyncio.sleep(0)
            stop.set()
            await runner
        stored = await store.history(
            HistoryQuery(signal=ids[TARGET], start=T0, end=T0 + 3 * 3600 * S)
        )
    assert len(stored.ts) > 600  # 2 h at one every 10 s, from the first complete tool values
    assert set(np.diff(stored.ts).tolist()) == {10 * S}
    assert ((stored.last >= 0) & (stored.last <= 100)).all()
    view = {v.key: v for v in twin.view("changwon.L1").signals}
    assert view[TARGET].value == pytest.approx(stored.last[-1])

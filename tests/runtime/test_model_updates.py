"""A model version registered while the twin runs is taken without a restart: the real
pipeline on the demo line, the registry in a DuckDB file, the watcher polling it."""

from __future__ import annotations

import asyncio
from pathlib import Path

import numpy as np

from plantwin.analytics.registry import ModelRegistry
from plantwin.analytics.rul.condition import FEATURES
from plantwin.analytics.rul.condition_model import ConditionRulSettings, fit_condition_rul
from plantwin.bus.memory import MemoryBus
from plantwin.core import ManualClock
from plantwin.core.records import Event
from plantwin.core.store import HistoryQuery, RecordQuery
from plantwin.ingest import Ingestor
from plantwin.model.catalog import SignalCatalog
from plantwin.model.plant import Plant
from plantwin.processing.processor import RuleProcessor
from plantwin.runtime.model_updates import ModelWatcher
from plantwin.runtime.pipeline import Pipeline
from plantwin.runtime.prediction_study import DEMO_LAYOUT
from plantwin.runtime.predictions import chain, prediction_stage
from plantwin.runtime.rul import rul_stage
from plantwin.simulation.demo_plant.connector import DemoPlant
from plantwin.store import DuckDBStore
from plantwin.store.memory import MemoryStore
from plantwin.twin import TwinState
from tests.helpers import T0, S

SPINDLE = "changwon.L1.mill1.spindle"
RUL, SCRAP = "spindle-bearing-rul", "scrap_probability"
MIN = 60 * S


class Constant:
    """A probability model (picklable: defined at module level) that answers ``p``."""

    def __init__(self, p: float) -> None:
        self.p = p

    def probability(self, x: np.ndarray) -> np.ndarray:
        return np.full(x.shape[0], self.p)


def rul_model(seed: int) -> object:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(300, len(FEATURES)))
    y = 24 + 10 * x[:, 0] + rng.normal(size=300)
    return fit_condition_rul(x, y, settings=ConditionRulSettings(trees=5, min_rows=20))


async def register(registry: ModelRegistry, version: int) -> None:
    await registry.register(RUL, rul_model(version), kind="test", data_start=0, data_end=1)
    await registry.register(
        SCRAP, Constant(0.1 * version), kind="test", data_start=0, data_end=1,
        features=DEMO_LAYOUT.feature_keys(),
    )  # fmt: skip


async def test_newer_versions_are_taken_while_the_pipeline_runs(
    example_plant: Plant, tmp_path: Path
) -> None:
    plant, clock = example_plant, ManualClock(T0)
    async with DuckDBStore(path=tmp_path / "m.duckdb") as store, MemoryBus() as bus:
        catalog = SignalCatalog(plant, await store.register_signals(list(plant.signals)))
        registry = ModelRegistry(store)
        watcher = ModelWatcher(registry, [])
        rul = await rul_stage(catalog, store, 0, watcher)
        scrap = await prediction_stage(catalog, store, watcher)
        assert rul is not None
        assert scrap is not None
        assert rul.versions() == {RUL: 0}
        assert scrap.versions() == {SCRAP: 0}
        twin = TwinState(plant, catalog)
        demo = DemoPlant(plant=plant, clock=clock, seed=5, start_ns=T0, poll_s=60)
        switched: dict[int, int] = {}  # version -> plant time when the watcher took it
        async with demo:
            pipeline = Pipeline(
                ingestor=Ingestor(catalog, clock), twin=twin, store=store, bus=bus,
                connectors=[demo], processor=RuleProcessor(twin, catalog, start_ns=T0),
                clock=clock, health=chain(scrap, rul),
            )  # fmt: skip
            stop, done = asyncio.Event(), asyncio.Event()
            runner = asyncio.create_task(pipeline.run(stop))
            polling = asyncio.create_task(watcher.run(done, every=0.02))
            for version, at in ((1, 15), (2, 45)):
                while demo.line.now_ns < T0 + at * MIN:  # noqa: ASYNC110 - virtual time
                    await asyncio.sleep(0)
                await register(registry, version)  # another writer: the watcher must notice
                async with asyncio.timeout(10):
                    while rul.versions()[RUL] < version or scrap.versions()[SCRAP] < version:  # noqa: ASYNC110
                        await asyncio.sleep(0.005)
                switched[version] = demo.line.now_ns
            while demo.line.now_ns < T0 + 75 * MIN:  # noqa: ASYNC110 - virtual time
                await asyncio.sleep(0)
            stop.set()
            done.set()
            await runner
            await polling

        async def series(key: str) -> tuple[np.ndarray, np.ndarray]:
            h = await store.history(
                HistoryQuery(signal=catalog.id(key), start=T0, end=T0 + 3 * 3600 * S)
            )
            return h.ts, h.last

        rul_ts, _ = await series(f"{SPINDLE}/rul")
        rul_v_ts, rul_v = await series(f"{SPINDLE}/rul_model")
        p_ts, p = await series(f"changwon.L1/{SCRAP}")
        p_v_ts, p_v = await series("changwon.L1/scrap_model")
        events = await store.records(RecordQuery(kind=Event, limit=1000))
    # nothing before the first version; each value names the version that made it
    assert rul_ts.min() >= T0 + 15 * MIN
    assert p_ts.min() >= T0 + 15 * MIN
    np.testing.assert_array_equal(rul_ts, rul_v_ts)
    np.testing.assert_array_equal(p_ts, p_v_ts)
    for ts, made_by in ((rul_v_ts, rul_v), (p_ts, p_v)):
        assert set(made_by.tolist()) == {1.0, 2.0}
        assert np.all(np.diff(made_by) >= 0)  # switched once, never back
        assert ts[made_by == 2.0].min() >= switched[2] - 5 * MIN  # the batch in flight
    np.testing.assert_allclose(p, 10.0 * p_v)  # 10 % from version 1, 20 % from version 2
    notes = {
        e.message for e in events if isinstance(e, Event) and "predicted by model" in e.message
    }
    for ref in (f"{RUL}@1", f"{RUL}@2", f"{SCRAP}@1", f"{SCRAP}@2"):
        assert any(ref in n for n in notes), ref


async def test_a_version_that_cannot_be_loaded_is_passed_over(example_plant: Plant) -> None:
    """A scrap version whose artifact no longer matches its digest: the twin starts with
    that signal empty (it did before the watcher; then start failed), and the RUL model is
    still taken. The broken version is not tried again."""
    async with MemoryStore() as store:
        catalog = SignalCatalog(
            example_plant, await store.register_signals(list(example_plant.signals))
        )
        registry = ModelRegistry(store)
        await register(registry, 1)
        info = await registry.info(SCRAP, 1)
        store._models[SCRAP, 1] = (info, b"edited")  # what a corrupted store would hold
        watcher = ModelWatcher(registry, [])
        scrap = await prediction_stage(catalog, store, watcher)
        rul = await rul_stage(catalog, store, 0, watcher)
        assert scrap is not None
        assert rul is not None
        assert scrap.versions() == {SCRAP: 0}
        assert rul.versions() == {RUL: 1}
        assert await watcher.check() == []

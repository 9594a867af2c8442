"""The demo trains the models its store lacks, in a background process, and the running
prediction stage takes them; a stop ends the training process at once."""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from plantwin.analytics.registry import ModelRegistry
from plantwin.analytics.rul.condition import FEATURES
from plantwin.analytics.rul.condition_model import ConditionRulSettings, fit_condition_rul
from plantwin.model.catalog import SignalCatalog
from plantwin.model.plant import Plant
from plantwin.runtime.demo_models import SCRAP, demo_jobs, train_missing
from plantwin.runtime.model_updates import ModelWatcher
from plantwin.runtime.predictions import prediction_stage
from plantwin.store import DuckDBStore

RUL = "spindle-bearing-rul"


def test_the_demo_plant_names_the_models_it_can_train(example_plant: Plant) -> None:
    assert demo_jobs(example_plant) == [SCRAP, RUL]


@pytest.mark.slow
async def test_a_missing_model_is_trained_registered_and_used(
    example_plant: Plant, tmp_path: Path
) -> None:
    async with DuckDBStore(path=tmp_path / "d.duckdb") as store:
        registry = ModelRegistry(store)
        rng = np.random.default_rng(0)
        x = rng.normal(size=(200, len(FEATURES)))
        rul = fit_condition_rul(x, 24 + 5 * x[:, 0], settings=ConditionRulSettings(trees=3))
        await registry.register(RUL, rul, kind="test", data_start=0, data_end=1)  # present
        catalog = SignalCatalog(
            example_plant, await store.register_signals(list(example_plant.signals))
        )
        watcher = ModelWatcher(registry, [])
        stage = await prediction_stage(catalog, store, watcher)
        assert stage is not None
        assert stage.versions() == {SCRAP: 0}
        made = await train_missing(
            example_plant, watcher, asyncio.Event(), seed=7, days={SCRAP: 2.0}
        )
        assert [i.ref for i in made] == [f"{SCRAP}@1"]  # only what the store lacked
        assert stage.versions() == {SCRAP: 1}  # taken at once
        info = await registry.info(SCRAP)
    assert info.data_end - info.data_start >= 2 * 86_400 * 10**9 - 10**9  # two simulated days
    assert info.data_end <= time.time_ns()
    assert info.params["seed"] == 8  # the demo's seed + 1: not the live line's own future
    assert info.metrics["parts"] > 1000
    assert 0.0 <= info.metrics["holdout_brier"] < 0.1
    spec = example_plant.signals[f"changwon.L1/{SCRAP}"].predict
    assert spec is not None
    assert tuple(info.features) == spec.signals


async def test_stop_ends_the_training_process(example_plant: Plant, tmp_path: Path) -> None:
    async with DuckDBStore(path=tmp_path / "d.duckdb") as store:
        watcher = ModelWatcher(ModelRegistry(store), [])
        stop = asyncio.Event()
        asyncio.get_running_loop().call_later(1.0, stop.set)
        started = time.monotonic()
        made = await train_missing(example_plant, watcher, stop, seed=7)
        assert made == []
        assert multiprocessing.active_children() == []  # the training process has ended
        assert time.monotonic() - started < 15  # not the minutes a full training takes
        assert await ModelRegistry(store).list() == []


async def test_a_training_process_that_dies_is_reported(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The process reads the plant file first; gone by then, it dies before any result (as
    when killed or crashed): the demo goes on, and the log says so instead of nothing."""
    from plantwin.model.loader import load_plant  # noqa: PLC0415
    from tests.conftest import EXAMPLE  # noqa: PLC0415

    copy = tmp_path / "plant.yaml"
    copy.write_text(EXAMPLE.read_text(encoding="utf-8"), encoding="utf-8")
    plant = load_plant(copy)
    copy.unlink()
    async with DuckDBStore(path=tmp_path / "d.duckdb") as store:
        watcher = ModelWatcher(ModelRegistry(store), [])
        with caplog.at_level(logging.ERROR, logger="plantwin.runtime.demo_models"):
            made = await train_missing(plant, watcher, asyncio.Event(), seed=7)
    assert made == []
    assert multiprocessing.active_children() == []
    assert any("training process ended early: exit code 1" in r.message for r in caplog.records)


PARENT = """\
import asyncio, multiprocessing, sys
from plantwin.analytics.registry import ModelRegistry
from plantwin.model.loader import load_plant
from plantwin.runtime.demo_models import train_missing
from plantwin.runtime.model_updates import ModelWatcher
from plantwin.store.memory import MemoryStore

async def main() -> None:
    async with MemoryStore() as store:
        watcher = ModelWatcher(ModelRegistry(store), [])
        task = asyncio.create_task(
            train_missing(load_plant(sys.argv[1]), watcher, asyncio.Event(), seed=7)
        )
        while not multiprocessing.active_children():
            await asyncio.sleep(0.05)
        print(multiprocessing.active_children()[0].pid, flush=True)
        await task

asyncio.run(main())
"""


def gone(pid: int) -> bool:
    """Ended (a zombie whose new parent does not reap it has ended too)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return True
    return "State:\tZ" in status


def ignores_sigint(pid: int) -> bool:
    status = Path(f"/proc/{pid}/status").read_text()
    mask = next(line.split()[1] for line in status.splitlines() if line.startswith("SigIgn:"))
    return bool(int(mask, 16) & 1 << (signal.SIGINT - 1))


@pytest.mark.slow
def test_the_training_process_ends_when_the_demo_is_killed() -> None:
    """SIGKILL (or the OOM killer) gives the demo no chance to end its trainer; it must not
    train on for minutes as an orphan. Ctrl-C reaches it too (the process group) and is left
    to the demo."""
    from tests.conftest import EXAMPLE  # noqa: PLC0415

    with subprocess.Popen(
        [sys.executable, "-c", PARENT, str(EXAMPLE)], stdout=subprocess.PIPE, text=True
    ) as demo:
        assert demo.stdout is not None
        child = int(demo.stdout.readline())
        deadline = time.monotonic() + 60
        while not ignores_sigint(child) and time.monotonic() < deadline:
            time.sleep(0.1)  # the trainer starts (spawned: a fresh interpreter)
        os.kill(child, signal.SIGINT)
        time.sleep(0.5)
        assert not gone(child)  # SIGINT is the demo's to handle
        demo.kill()
    deadline = time.monotonic() + 10
    while not gone(child) and time.monotonic() < deadline:
        time.sleep(0.1)
    alive = not gone(child)
    if alive:
        os.kill(child, signal.SIGKILL)
    assert not alive

"""The demo's own models: trained from simulated history when the store has none.

`plantwin demo` starts at once; if the store holds no version of a model the plant file
names (the spindle bearings' RUL model, the line's scrap probability), a background process
simulates a seeded history of the demo line, trains the model, holds part of that history
out for its metrics and hands the fitted model back; it is registered here, in the demo's
store (which only this process may open), with its training range, metrics and the
simulation's seed, and the running stages take it at once (``ModelWatcher.check``).

Why a process: a day of the line simulates in 2-4 s of pure Python, and the RUL model needs
weeks of it (a bearing lasts 4-5 days), so training takes minutes of one core. A process at
low priority keeps that off the event loop and the GIL. The history is simulated with seed
``demo seed + 1``: the live line's own future is not trained on. Nothing of it is stored.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path

from plantwin.core.models import ModelInfo, ParamValue
from plantwin.model.plant import Plant
from plantwin.runtime.model_updates import ModelWatcher

log = logging.getLogger(__name__)

NS_PER_S = 1_000_000_000
DAY_S = 86_400
SCRAP_DAYS = 10.0  # ~7,000 parts, ~90 scrap: a quarter of them held out for the metrics
RUL_DAYS = 40.0  # ~8 bearing failures over both spindles (docs/analytics.md)
HOLDOUT = 0.25
SCRAP = "scrap_probability"


@dataclass(frozen=True, slots=True, kw_only=True)
class Trained:
    """A fitted model and what its registry record says of it (sent back by the process)."""

    name: str
    kind: str
    model: object
    data_start: int
    data_end: int
    data_sources: tuple[str, ...]
    features: tuple[str, ...]
    metrics: dict[str, float]
    params: dict[str, ParamValue] = field(default_factory=dict)


def demo_jobs(plant: Plant) -> list[str]:
    """The model names of the plant this module can train: RUL models, and the scrap
    probability over the demo line's tool signals."""
    from plantwin.runtime.prediction_study import DEMO_LAYOUT  # noqa: PLC0415

    jobs = sorted({s.rul.model for s in plant.signals.values() if s.rul is not None})
    scrap = [
        s.predict
        for s in plant.signals.values()
        if s.predict is not None and s.predict.model == SCRAP
    ]
    if scrap and all(list(p.signals) == DEMO_LAYOUT.feature_keys() for p in scrap):
        jobs.insert(0, SCRAP)  # first: it is ready in well under a minute
    return jobs


async def train_missing(
    plant: Plant,
    watcher: ModelWatcher,
    stop: asyncio.Event,
    *,
    seed: int,
    days: Mapping[str, float] | None = None,
) -> list[ModelInfo]:
    """Train, register and put to use each demo model the store has no version of; returns
    when done, or at ``stop`` (the process is ended). ``days`` of simulated history per
    model name (default ``SCRAP_DAYS``, ``RUL_DAYS``)."""
    missing = [n for n in demo_jobs(plant) if not await watcher.registry.list(n)]
    if not missing or not plant.source:
        return []
    end = time.time_ns() // NS_PER_S * NS_PER_S
    log.warning(
        "no %s model registered: training from simulated history in the background",
        ", ".join(missing),
    )
    context = multiprocessing.get_context("spawn")  # no fork of a process running threads
    receive, send = context.Pipe(duplex=False)
    spans = {n: (days or {}).get(n, SCRAP_DAYS if n == SCRAP else RUL_DAYS) for n in missing}
    child = context.Process(
        target=_child,
        args=(str(plant.source), spans, seed + 1, end, send),
        name="plantwin-demo-training",
        daemon=True,
    )
    child.start()
    send.close()  # the child's end: when the child exits, recv sees EOF
    made: list[ModelInfo] = []
    try:
        for _ in missing:
            got = await _receive(receive, stop)
            if got is None:
                if not stop.is_set():  # the process died without a word (a crash, killed)
                    await asyncio.to_thread(child.join, 5.0)
                    log.error(
                        "the demo's training process ended early: exit code %s", child.exitcode
                    )
                break
            if isinstance(got, str):
                log.error("training a demo model failed: %s", got)
                continue
            made.append(await _register(watcher, got))
    finally:
        if child.is_alive():
            child.terminate()
        await asyncio.to_thread(child.join, 5.0)
        receive.close()
    return made


async def _receive(conn: Connection, stop: asyncio.Event) -> Trained | str | None:
    """The child's next result, or None at ``stop`` or when the child has gone."""
    reading = asyncio.ensure_future(asyncio.to_thread(_recv, conn))
    stopping = asyncio.ensure_future(stop.wait())
    await asyncio.wait({reading, stopping}, return_when=asyncio.FIRST_COMPLETED)
    stopping.cancel()
    if not reading.done():
        return None  # the caller ends the child, which ends the read
    return reading.result()


def _recv(conn: Connection) -> Trained | str | None:
    try:
        got = conn.recv()
    except (EOFError, OSError):
        return None
    return got if isinstance(got, Trained | str) else None


async def _register(watcher: ModelWatcher, t: Trained) -> ModelInfo:
    info = await watcher.registry.register(
        t.name, t.model, kind=t.kind, data_start=t.data_start, data_end=t.data_end,
        data_sources=t.data_sources, features=t.features, metrics=t.metrics, params=t.params,
    )  # fmt: skip
    log.warning("registered %s, trained on simulated history: %s", info.ref, t.metrics)
    await watcher.check()
    return info


def _child(
    plant_file: str, jobs: Mapping[str, float], seed: int, end_ns: int, out: Connection
) -> None:
    """The training process: each job's Trained (or an error message) down ``out``."""
    from plantwin.model.loader import load_plant  # noqa: PLC0415

    # Ctrl-C reaches the whole process group: the demo ends this process itself (no
    # KeyboardInterrupt traceback from here). A demo that dies unasked (SIGKILL, OOM) never
    # does: then end with it, not minutes of training later.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(target=_end_with_parent, name="parent-watch", daemon=True).start()
    with contextlib.suppress(OSError):
        os.nice(10)  # the live demo comes first
    plant = load_plant(Path(plant_file))
    for job, days in jobs.items():
        try:
            result: Trained | str = (
                train_scrap(plant, seed=seed, end_ns=end_ns, days=days)
                if job == SCRAP
                else asyncio.run(train_rul(plant, job, seed=seed, end_ns=end_ns, days=days))
            )
        except Exception as err:
            result = f"{job}: {type(err).__name__}: {err}"
        out.send(result)
    out.close()


def _end_with_parent() -> None:
    parent = multiprocessing.parent_process()
    if parent is not None:
        parent.join()  # returns when the parent has gone
        os._exit(1)


def train_scrap(plant: Plant, *, seed: int, end_ns: int, days: float = SCRAP_DAYS) -> Trained:
    """The scrap model on ``days`` of simulated line ending at ``end_ns``; metrics from a
    model fitted on the first parts and scored on the last ``HOLDOUT`` share."""
    from plantwin.analytics.quality.evaluation import THRESHOLD, scores  # noqa: PLC0415
    from plantwin.analytics.quality.features import part_table  # noqa: PLC0415
    from plantwin.analytics.quality.model import fit_scrap_model  # noqa: PLC0415
    from plantwin.runtime.demo_history import demo_history  # noqa: PLC0415
    from plantwin.runtime.prediction_study import DEMO_LAYOUT  # noqa: PLC0415

    layout = DEMO_LAYOUT
    keys = [
        *layout.feature_keys(),
        *(f"{m}/part_count" for m in layout.machines),
        f"{layout.inspection}/good_count",
        f"{layout.inspection}/scrap_count",
    ]
    start = end_ns - int(days * DAY_S) * NS_PER_S
    run = demo_history(plant, keys, seed=seed, days=days, start_ns=start)
    table = part_table(run.history, layout)
    split = int(len(table) * (1 - HOLDOUT))
    check = fit_scrap_model(table.x[:split], table.scrap[:split], table.names, seed=seed)
    held = scores(
        check.probability(table.x[split:]), table.scrap[split:], threshold=THRESHOLD,
        probability=True,
    )  # fmt: skip
    model = fit_scrap_model(table.x, table.scrap, table.names, seed=seed)
    return Trained(
        name=SCRAP, kind="lightgbm+isotonic", model=model, data_start=start,
        data_end=run.history.end_ns, data_sources=("simulated demo line",),
        features=tuple(layout.feature_keys()),
        metrics={
            "holdout_roc_auc": held.roc_auc, "holdout_brier": held.brier or 0.0,
            "holdout_precision": held.precision, "holdout_recall": held.recall,
            "parts": float(len(table)), "scrap": float(table.scrap.sum()),
        },
        params={"seed": seed, "simulated_days": days, "holdout": HOLDOUT, "threshold": THRESHOLD},
    )  # fmt: skip


async def train_rul(
    plant: Plant, name: str, *, seed: int, end_ns: int, days: float = RUL_DAYS
) -> Trained:
    """RUL model ``name`` on ``days`` of simulated line ending at ``end_ns`` (its metrics:
    a model fitted on the first three quarters, measured on the last)."""
    from plantwin.analytics.registry import ModelRegistry  # noqa: PLC0415
    from plantwin.runtime.rul import train_plant_rul  # noqa: PLC0415
    from plantwin.runtime.rul_study import demo_history  # noqa: PLC0415
    from plantwin.store.memory import MemoryStore  # noqa: PLC0415

    keys = {
        k
        for s in plant.signals.values()
        if s.rul is not None and s.rul.model == name
        for k in (s.rul.signal, s.rul.running)
    }
    start = end_ns - int(days * DAY_S) * NS_PER_S
    async with MemoryStore() as store:
        await demo_history(plant, store, keys, seed=seed, days=days, start_ns=start)
        infos = await train_plant_rul(plant, store, start, end_ns, seed=seed)
        info = next(i for i in infos if i.name == name)
        loaded = await ModelRegistry(store).load(name, info.version)
    return Trained(
        name=name, kind=info.kind, model=loaded.model, data_start=info.data_start,
        data_end=info.data_end, data_sources=("simulated demo line", *info.data_sources),
        features=info.features, metrics=dict(info.metrics),
        params={**info.params, "simulated_days": days},
    )  # fmt: skip

"""Online RUL on the demo plant: the RUL stage's cost in the twin stage.

A model is trained on 6 simulated days (fast-ageing bearings, seed 1) from a memory store,
then one more seeded day runs through ingest, the twin, the RUL stage and the rules with 1 s
batches (the demo's rate). Printed: the RUL stage's seconds over the rest of the twin stage
(ingest, twin, rules) measured in the same run, and predictions made.
"""

from __future__ import annotations

import asyncio
import time
from importlib.resources import files
from pathlib import Path

from bench.common import emit, pin_to_one_core
from plantwin.analytics.registry import LoadedModel, ModelRegistry
from plantwin.model.loader import load_plant
from plantwin.runtime.rul import train_plant_rul
from plantwin.runtime.rul_study import demo_history, fast_bearings, run_twin_rul
from plantwin.store import MemoryStore

START = 1_767_225_600_000_000_000  # 2026-01-01 00:00 UTC
DAY = 86_400_000_000_000


async def train(days: float) -> LoadedModel:
    plant = load_plant(Path(str(files("plantwin.simulation.demo_plant") / "machining-line.yaml")))
    keys = {k for s in plant.signals.values() if s.rul for k in (s.rul.signal, s.rul.running)}
    async with MemoryStore() as store:
        await demo_history(
            plant, store, keys, seed=1, days=days, start_ns=START, settings=fast_bearings()
        )
        (info,) = await train_plant_rul(plant, store, START, START + int(days * DAY))
        print(f"trained {info.ref}: {dict(info.metrics)}")
        return await ModelRegistry(store).load(info.name)


def main() -> None:
    print(pin_to_one_core())
    plant = load_plant(Path(str(files("plantwin.simulation.demo_plant") / "machining-line.yaml")))
    model = asyncio.run(train(6.0))
    started = time.perf_counter()
    run = run_twin_rul(
        plant, {model.info.name: model}, seed=2, days=1.0, start_ns=START,
        settings=fast_bearings(), chunk_s=1,
    )  # fmt: skip
    base, rul = run.seconds["ingest+twin+rules"], run.seconds["rul"]
    predictions = sum(len(ts) for key, (ts, _) in run.series.items() if key.endswith("/rul"))
    print(f"{run.samples} samples, {predictions} RUL predictions in one simulated day")
    print(f"ingest+twin+rules {base:.2f} s, RUL stage {rul:.2f} s: {rul / base:.1%} on top")
    emit(
        {
            "samples": run.samples,
            "predictions": predictions,
            "twin_stage_s": round(base, 3),
            "rul_stage_s": round(rul, 3),
            "rul_over_twin_stage": round(rul / base, 4),
            "seconds": round(time.perf_counter() - started, 1),
        }
    )


if __name__ == "__main__":
    main()

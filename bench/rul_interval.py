"""Calibration of the RUL interval: coverage of the 0.1-0.9 band on held-out seeds.

The model is trained as the test and the demo do (seed 1, 8 simulated days, fast-ageing
bearings), once; the band is measured on other seeds (default 2, 3, 4; 4 days each), plain
quantile models (margin 0, the model before CQR: same boosters) against the conformalised
band. Nothing here is chosen on the held-out seeds: the folds (5, by run) and the level
(0.8, finite-sample corrected) are fixed in ConditionRulSettings.
Usage: ``python -m bench rul_interval [--seeds 2,3,4] [--train-days 8] [--test-days 4]``.
"""

from __future__ import annotations

import argparse
import asyncio
from dataclasses import replace
from importlib.resources import files
from pathlib import Path

import numpy as np

from bench.common import emit
from plantwin.analytics.rul.condition_model import ConditionRulModel, RulRows, evaluate
from plantwin.analytics.rul.condition_training import RulInput, collect_rows
from plantwin.model.loader import load_plant
from plantwin.model.plant import Plant
from plantwin.runtime.rul import train_plant_rul
from plantwin.runtime.rul_study import demo_history, fast_bearings
from plantwin.store import MemoryStore

START = 1_767_225_600_000_000_000  # 2026-01-01 00:00 UTC
DAY = 86_400_000_000_000


def rul_keys(plant: Plant) -> set[str]:
    return {k for s in plant.signals.values() if s.rul for k in (s.rul.signal, s.rul.running)}


async def rows_of(plant: Plant, seed: int, days: float) -> RulRows:
    async with MemoryStore() as store:
        keys = rul_keys(plant)
        await demo_history(
            plant, store, keys, seed=seed, days=days, start_ns=START, settings=fast_bearings()
        )
        ids = await store.register_signals(list(plant.signals))
        inputs = [
            RulInput(
                asset=key,
                signal=ids[s.rul.signal],
                running=ids[s.rul.running],
                failure=s.rul.failure,
                dt_s=1.0,
            )
            for key, s in plant.signals.items()
            if s.rul is not None
        ]
        return await collect_rows(store, inputs, START, START + int(days * DAY))


async def main_async(seeds: list[int], train_days: float, test_days: float) -> None:
    from plantwin.analytics.registry import ModelRegistry  # noqa: PLC0415

    plant = load_plant(Path(str(files("plantwin.simulation.demo_plant") / "machining-line.yaml")))
    async with MemoryStore() as store:
        await demo_history(
            plant, store, rul_keys(plant), seed=1, days=train_days, start_ns=START,
            settings=fast_bearings(),
        )  # fmt: skip
        (info,) = await train_plant_rul(plant, store, START, START + int(train_days * DAY))
        model = (await ModelRegistry(store).load(info.name)).model
    assert isinstance(model, ConditionRulModel)
    plain = replace(model, margin_h=0.0)
    print(f"trained {info.ref} on seed 1, {train_days:g} days: margin {model.margin_h:.2f} h")
    figures: dict[str, object] = {"margin_h": round(model.margin_h, 3)}
    pooled: dict[str, list[tuple[float, float, float]]] = {"quantile": [], "cqr": []}
    for seed in seeds:
        rows = await rows_of(plant, seed, test_days)
        for name, m in (("quantile", plain), ("cqr", model)):
            f = evaluate(m, rows)
            n = float(np.sum(np.minimum(rows.y, m.cap_h) < m.cap_h))
            pooled[name].append((f["coverage"], f["width_h"], n))
            print(
                f"seed {seed} {name:>8}: coverage {f['coverage']:.3f}, width {f['width_h']:.1f} h,"
                f" mae_8h {f.get('mae_8h', float('nan')):.2f} h ({int(n)} rows, "
                f"{len(rows.failures)} failures)"
            )
            figures[f"seed{seed}_{name}_coverage"] = round(f["coverage"], 4)
            figures[f"seed{seed}_{name}_width_h"] = round(f["width_h"], 2)
    for name, got in pooled.items():
        n = sum(g[2] for g in got)
        cov = sum(g[0] * g[2] for g in got) / n
        width = sum(g[1] * g[2] for g in got) / n
        print(f"all held-out seeds {name:>8}: coverage {cov:.3f}, width {width:.1f} h")
        figures[f"{name}_coverage"] = round(cov, 4)
        figures[f"{name}_width_h"] = round(width, 2)
    emit(figures)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", default="2,3,4")
    parser.add_argument("--train-days", type=float, default=8.0)
    parser.add_argument("--test-days", type=float, default=4.0)
    args = parser.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    asyncio.run(main_async(seeds, args.train_days, args.test_days))


if __name__ == "__main__":
    main()

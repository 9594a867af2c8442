"""FMU co-simulation benchmark: FMU steps per second in the stream, and the pipeline's cost.

Run: .venv/bin/python -m bench.fmu_cosim [--samples 1_000_000] [--fmus 10,100]

1. Raw baseline: the thermal FMU of examples/fmu stepped by FMPy alone in a loop (set two
   inputs, one doStep, get one output), against the same FMU stepped by
   ``FmuCoSimulation.advance`` from 1 Hz batches of its signals (10 s of data per batch).
2. Pipeline: the ingest benchmark's plant (100 machines x 10 signals at 1 Hz, replayed from
   Parquet into DuckDB, with the rule stage) without FMUs, then with a thermal FMU on 10 and
   on all 100 machines (1 s step; inputs power and coolant temperature; start value and
   residual from the bearing temperature; a threshold rule on the residual). The runs
   alternate and the best of each is compared, in wall time of the pipeline, on one core.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
from fmpy import extract
from fmpy.fmi2 import FMU2Slave

from bench.common import emit, pin_to_one_core
from bench.ingest_pipeline import MACHINES, NS, PLANT, T0, raw_batches, write_parquet
from bench.rules_overhead import Rates
from plantwin.bus.memory import MemoryBus
from plantwin.connectors.replay import ReplayConnector, parse_options
from plantwin.core.clock import ManualClock
from plantwin.core.samples import SampleBatch
from plantwin.ingest import Ingestor
from plantwin.model.catalog import SignalCatalog
from plantwin.model.loader import parse_plant
from plantwin.model.plant import Plant
from plantwin.processing.processor import RuleProcessor
from plantwin.runtime.pipeline import Pipeline
from plantwin.simulation.fmu.build import build_fmu
from plantwin.simulation.fmu.cosim import CoSimulator, FmuCoSimulation
from plantwin.store import DuckDBStore
from plantwin.twin import TwinState

SOURCE = Path(__file__).resolve().parent.parent / "examples" / "fmu" / "thermal"


def raw_steps_per_s(fmu: Path, plant: Plant, steps: int) -> float:
    """FMPy alone: the loop a hand-written co-simulation master would run."""
    definition = next(iter(plant.fmus.values()))
    unzipped = extract(str(fmu))
    slave = FMU2Slave(
        guid=definition.token,
        unzipDirectory=unzipped,
        modelIdentifier=definition.model_identifier,
        instanceName="raw",
    )
    slave.instantiate()
    slave.setupExperiment(startTime=0.0)
    slave.enterInitializationMode()
    slave.exitInitializationMode()
    start = time.perf_counter()
    for k in range(steps):
        slave.setReal([0, 1], [20.0, 20.0])
        slave.doStep(currentCommunicationPoint=float(k), communicationStepSize=1.0)
        slave.getReal([2])
    elapsed = time.perf_counter() - start
    slave.terminate()
    slave.freeInstance()
    return steps / elapsed


def stream_steps_per_s(plant: Plant, steps: int, per_batch: int = 10) -> float:
    """The same FMU stepped by plantwin from batches of its three signals at 1 Hz."""
    machine = "s.L.m000"
    catalog = SignalCatalog(plant, {key: i for i, key in enumerate(plant.signals)})
    fmu = next(f for f in plant.fmus.values() if f.twin == machine)
    sim = FmuCoSimulation(fmu, catalog)
    sids = [catalog.id(f"{machine}/{s}") for s in ("power", "coolant_temp", "bearing_temp")]
    batches = []
    for first in range(0, steps + 1, per_batch):
        ts = T0 + np.arange(first, first + per_batch, dtype=np.int64) * NS
        batches.append(
            SampleBatch(
                signal=np.repeat(np.array(sids, np.int32), per_batch),
                ts=np.tile(ts, 3),
                value=np.tile(np.linspace(20.0, 30.0, per_batch), 3),
                quality=np.zeros(3 * per_batch, np.uint8),
            ).canonical()
        )
    start = time.perf_counter()
    for batch in batches:
        sim.advance(batch)
    elapsed = time.perf_counter() - start
    done = sim.steps
    sim.close()
    return done / elapsed


def plant_with_fmus(fmu: Path | None, count: int = MACHINES) -> Plant:
    """The ingest benchmark's plant; with ``fmu``, a thermal FMU and a residual rule on each
    of the first ``count`` machines."""
    rule = "rules: {drift: {kind: threshold, signal: bearing_residual, above: 50 K}}"
    assets = "".join(
        f"          m{i:03d}: {{type: machine, {rule}}}\n"
        if fmu is not None and i < count
        else f"          m{i:03d}: {{type: machine}}\n"
        for i in range(MACHINES)
    )
    text = PLANT + assets
    if fmu is not None:
        text += "fmus:\n" + "".join(
            f"  thermal{i:03d}:\n"
            f"    twin: s.L.m{i:03d}\n"
            f"    file: {fmu}\n"
            "    step: 1 s\n"
            "    inputs: {P: power, T_amb: coolant_temp}\n"
            "    outputs: {T: bearing_model}\n"
            "    parameters: {tau: 2 min, k: 0.5 K/kW}\n"
            "    initial: {T_start: bearing_temp}\n"
            "    residuals: {bearing_residual: {measured: bearing_temp, model: bearing_model}}\n"
            for i in range(count)
        )
    return parse_plant(text, "bench.yaml")


async def run(plant: Plant, recording: Path, path: Path) -> Rates:
    """The pipeline (rules on) fed by the replay connector at full speed, FMUs if declared."""
    clock = ManualClock(T0 + 86_400 * NS)
    options = {"file": str(recording), "time_format": "ns", "speed": "max", "batch_rows": 1000}
    declared = replace(plant.connectors["plc"], options=options)
    replay = ReplayConnector(name="plc", options=parse_options(declared), clock=clock)
    async with DuckDBStore(path=path) as store, MemoryBus() as bus, replay:
        ids = await store.register_signals(list(plant.signals))
        catalog = SignalCatalog(plant, ids)
        twin = TwinState(plant, catalog)
        model = CoSimulator.for_plant(catalog) if plant.fmus else None
        pipeline = Pipeline(
            ingestor=Ingestor(catalog, clock),
            twin=twin,
            store=store,
            bus=bus,
            connectors=[replay],
            processor=RuleProcessor(twin, catalog, start_ns=T0),
            clock=clock,
            model=model,
        )
        stop = asyncio.Event()
        start, cpu, process_cpu = time.perf_counter(), time.thread_time(), time.process_time()
        runner = asyncio.create_task(pipeline.run(stop))
        finished = asyncio.create_task(replay.finished.wait())
        await asyncio.wait({runner, finished}, return_when=asyncio.FIRST_COMPLETED)
        stop.set()
        await runner  # raises what broke the pipeline instead of waiting for ever
        elapsed, cpu = time.perf_counter() - start, time.thread_time() - cpu
        process_cpu = time.process_time() - process_cpu
        if model is not None:
            failed = [f.error for f in model.fmus if f.error]
            assert not failed, failed[0]
            model.close()
        samples = replay.health().samples
    return Rates(
        samples / elapsed, samples / cpu, samples / process_cpu, pipeline.stats.alarm_events
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--samples", type=int, default=1_000_000)
    parser.add_argument("--steps", type=int, default=100_000, help="steps of the raw baseline")
    parser.add_argument("--fmus", default="10,100", help="machines with an FMU, per run")
    parser.add_argument("--dir", default=None)
    args = parser.parse_args()
    counts = [int(c) for c in args.fmus.split(",")]
    core = pin_to_one_core()
    figures: dict[str, object] = {"bench": "fmu_cosim"}
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        fmu = build_fmu(SOURCE, Path(tmp) / "thermal.fmu")
        plain_plant = plant_with_fmus(None)
        plants = {count: plant_with_fmus(fmu, count) for count in counts}
        raw = raw_steps_per_s(fmu, plants[counts[0]], args.steps)
        stream = stream_steps_per_s(plants[counts[0]], args.steps)
        print(f"thermal FMU (FMI 2.0, C, RK4 in 0.1 s sub-steps), {core}")
        print(f"{'FMPy loop (raw)':32}{raw:12,.0f} steps/s")
        print(
            f"{'FmuCoSimulation, 10 s batches':32}{stream:12,.0f} steps/s"
            f"  ({raw / stream:.2f}x raw)"
        )
        figures |= {"raw_steps_per_s": round(raw), "stream_steps_per_s": round(stream)}
        batches = raw_batches(plain_plant, args.samples)
        samples = len(batches) * 1000
        figures["samples"] = samples
        scans = samples // len(plain_plant.bindings)  # 1 Hz: one FMU step per scan
        recording = write_parquet(batches, Path(tmp) / "recording.parquet")
        print(f"pipeline: {samples:,} samples of 100 machines at 1 Hz, FMUs at 1 s; best of 3")
        print(f"{'':24}{'samples/s':>14}{'per CPU-s':>14}{'FMU steps/s':>14}{'cost':>8}")
        plain: list[Rates] = []
        runs: dict[int, list[Rates]] = {count: [] for count in counts}
        for round_ in range(3):
            plain.append(asyncio.run(run(plain_plant, recording, Path(tmp) / f"p{round_}")))
            for count in counts:
                where = Path(tmp) / f"f{count}-{round_}"
                runs[count].append(asyncio.run(run(plants[count], recording, where)))
    best_plain = max(r.wall for r in plain)
    print(f"{'without FMUs':24}{best_plain:14,.0f}{max(r.cpu for r in plain):14,.0f}")
    figures["plain_samples_per_s"] = round(best_plain)
    for count, rates in runs.items():
        best = max(r.wall for r in rates)
        steps = count * scans * best / samples
        label = f"with {count} FMUs"
        print(
            f"{label:24}{best:14,.0f}{max(r.cpu for r in rates):14,.0f}{steps:14,.0f}"
            f"{best_plain / best:8.2f}"
        )
        figures[f"fmus_{count}"] = {
            "samples_per_s": round(best),
            "fmu_steps_per_s": round(steps),
            "cost_ratio_wall": round(best_plain / best, 3),
            "cost_ratio_cpu": round(max(r.cpu for r in plain) / max(r.cpu for r in rates), 3),
        }
    print("cost: pipeline wall time with FMUs / without, same recording")
    emit(figures)


if __name__ == "__main__":
    main()

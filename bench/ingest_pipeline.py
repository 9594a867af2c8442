"""Ingest benchmark: connector batches -> ingest -> bus -> twin -> DuckDB, vs raw DuckDB appends.

Run: .venv/bin/python -m bench.ingest_pipeline [--samples 3_000_000] [--dir /tmp]

A synthetic plant of 100 machines x 10 signals (8 measured, a state, one derived) sends each
measured signal at 1 Hz. The readings are written to a Parquet file and handed over by the
real replay connector at full speed in 1,000-sample RawBatches with string addresses, and go
through the real pipeline (ingest, memory bus, twin state with derived signals and states,
DuckDBStore). The baseline appends the same
samples to a fresh DuckDB table as pre-built 100,000-row Arrow tables: DuckDB's best case.
Both run in this process, pinned to one core.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from bench.common import emit, pin_to_one_core
from plantwin.bus.memory import MemoryBus
from plantwin.connectors.replay import ReplayConnector, parse_options
from plantwin.core.clock import ManualClock
from plantwin.core.samples import RawBatch
from plantwin.ingest import Ingestor
from plantwin.model.catalog import SignalCatalog
from plantwin.model.loader import parse_plant
from plantwin.model.plant import Plant
from plantwin.runtime.pipeline import Pipeline
from plantwin.store import DuckDBStore
from plantwin.twin import TwinState

NS = 1_000_000_000
T0 = 1_800_000_000 * NS
MACHINES = 100
BATCH = 1000

PLANT = """
plantwin: 1
name: bench
connectors: {plc: {kind: replay, file: recording.parquet}}
types:
  machine:
    properties: {rated: 20 kW}
    states: {values: {idle: 0, running: 1, down: 3}}
    signals:
      power: {unit: kW, range: [0, 40]}
      current: {unit: A, range: [0, 80]}
      vibration: {unit: mm/s, range: [0, 20]}
      bearing_temp: {unit: degC, range: [0, 120]}
      coolant_temp: {unit: degC, range: [0, 60]}
      speed: {unit: rpm, range: [0, 12000]}
      pressure: {unit: bar, range: [0, 10]}
      flow: {unit: l/min, range: [0, 100]}
      load: {unit: percent, expr: power / rated}
    bindings:
      "*": {connector: plc, address: "ns=2;s={asset}.{signal}"}
sites:
  s:
    lines:
      L:
        assets:
"""


def bench_plant() -> Plant:
    assets = "".join(f"          m{i:03d}: {{type: machine}}\n" for i in range(MACHINES))
    return parse_plant(PLANT + assets, "bench.yaml")


def raw_batches(plant: Plant, samples: int) -> list[RawBatch]:
    """1 Hz scans of every bound signal, cut into 1,000-sample batches."""
    addresses = [b.address for b in plant.bindings]
    per_scan = len(addresses)
    scans = -(-samples // per_scan)
    rng = np.random.default_rng(3)
    address = addresses * scans
    ts = np.repeat(T0 + np.arange(scans, dtype=np.int64) * NS, per_scan)
    value = rng.uniform(0.5, 8.0, per_scan * scans)
    state = np.array(["state" in a for a in addresses] * scans)
    value[state] = 1.0  # machines run; the state tracker still inspects every state sample
    return [
        RawBatch.of("plc", address[i : i + BATCH], ts[i : i + BATCH], value[i : i + BATCH])
        for i in range(0, samples, BATCH)
    ]


def write_parquet(batches: list[RawBatch], path: Path) -> Path:
    """The same readings as a long-format Parquet file, for the real replay connector."""
    table = pa.table(
        {
            "ts": np.concatenate([b.ts for b in batches]),
            "address": [a for b in batches for a in b.address],
            "value": np.concatenate([b.value for b in batches]),
        }
    )
    pq.write_table(table, path)
    return path


async def pipeline_rate(plant: Plant, recording: Path, path: Path) -> tuple[float, int, int]:
    """Samples/s through the pipeline, fed by the replay connector at full speed.

    The file is read and decoded when the connector opens, before the clock starts; what is
    timed is handing over 1,000-sample batches and everything after them.
    """
    clock = ManualClock(T0 + 86_400 * NS)
    options = {"file": str(recording), "time_format": "ns", "speed": "max", "batch_rows": BATCH}
    declared = replace(plant.connectors["plc"], options=options)
    replay = ReplayConnector(name="plc", options=parse_options(declared), clock=clock)
    async with DuckDBStore(path=path) as store, MemoryBus() as bus, replay:
        ids = await store.register_signals(list(plant.signals))
        catalog = SignalCatalog(plant, ids)
        pipeline = Pipeline(
            ingestor=Ingestor(catalog, clock),
            twin=TwinState(plant, catalog),
            store=store,
            bus=bus,
            connectors=[replay],
        )
        stop = asyncio.Event()
        start = time.perf_counter()
        runner = asyncio.create_task(pipeline.run(stop))
        await replay.finished.wait()
        stop.set()
        await runner  # drains every stage and flushes the store
        elapsed = time.perf_counter() - start
        committed = store.stats().committed_samples
        arrived = replay.health().samples
    return arrived / elapsed, committed, arrived


def raw_rate(batches: list[RawBatch], path: Path, plant: Plant) -> float:
    """DuckDB's best case: the same rows as pre-built 100,000-row Arrow tables."""
    index = {b.address: i for i, b in enumerate(plant.bindings)}
    signal = np.concatenate([[index[a] for a in b.address] for b in batches]).astype(np.int32)
    ts = np.concatenate([b.ts for b in batches])
    value = np.concatenate([b.value for b in batches])
    quality = np.zeros(len(ts), np.uint8)
    tables = [
        pa.table(
            {
                "signal": signal[i : i + 100_000],
                "ts": ts[i : i + 100_000],
                "value": value[i : i + 100_000],
                "quality": quality[i : i + 100_000],
            }
        )
        for i in range(0, len(ts), 100_000)
    ]
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE samples (signal INTEGER, ts BIGINT, value DOUBLE, quality UTINYINT)")
    start = time.perf_counter()
    for table in tables:
        con.register("chunk", table)
        con.execute("INSERT INTO samples SELECT * FROM chunk")
        con.unregister("chunk")
    con.execute("CHECKPOINT")
    elapsed = time.perf_counter() - start
    con.close()
    return len(ts) / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=3_000_000)
    parser.add_argument("--dir", type=Path, default=None)
    args = parser.parse_args()
    pinned = pin_to_one_core()
    plant = bench_plant()
    batches = raw_batches(plant, args.samples)
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        recording = write_parquet(batches, Path(tmp) / "recording.parquet")
        raw = raw_rate(batches, Path(tmp) / "raw.duckdb", plant)
        rate, committed, arrived = asyncio.run(
            pipeline_rate(plant, recording, Path(tmp) / "store.duckdb")
        )
    assert arrived == sum(len(b) for b in batches), "the replay lost readings"
    ratio = rate / raw
    print(
        f"ingest benchmark ({pinned}; {len(plant.signals)} signals, "
        f"{len(batches)} batches of {BATCH})"
    )
    print(f"{'path':58} {'samples/s':>12}")
    print(f"{'raw DuckDB append, pre-built 100,000-row Arrow tables':58} {raw:12,.0f}")
    print(f"{'pipeline: ingest -> bus -> twin (+derived) -> DuckDBStore':58} {rate:12,.0f}")
    print(f"{'ratio pipeline / raw':58} {ratio:12.3f}")
    print(
        f"arrived samples: {sum(len(b) for b in batches):,}; "
        f"committed rows incl. derived: {committed:,}"
    )
    emit(
        {
            "bench": "ingest",
            "pipeline_samples_per_s": round(rate),
            "raw_samples_per_s": round(raw),
            "ratio": round(ratio, 4),
            "samples": sum(len(b) for b in batches),
            "committed_rows": committed,
            "batch": BATCH,
        }
    )


if __name__ == "__main__":
    main()

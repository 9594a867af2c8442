"""Replay benchmark: a recorded file -> replay connector -> pipeline -> DuckDB, as fast as possible.

Run: .venv/bin/python -m bench.replay_file [--rows 1_000_000] [--dir /tmp]

The recording is one million samples of 100 machines x 10 signals at 1 Hz in long layout
(time, address, value), written as CSV (ISO 8601 times) and as Parquet (timestamp column).
For each file the benchmark times (1) pyarrow reading the file alone, the floor for any
reader; (2) the replay connector opening it (read, convert, check every row, order by time);
(3) `plantwin replay` end to end (runtime, ingest, twin, DuckDB commit). Pinned to one core.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from bench.common import emit, pin_to_one_core
from plantwin.connectors.replay import ReplayConnector, parse_options
from plantwin.core.clock import WallClock
from plantwin.model.plant import ConnectorDef
from plantwin.runtime.replay import plan_replay, replay_file
from plantwin.runtime.settings import Settings

NS = 1_000_000_000
T0 = 1_760_000_000 * NS  # 2025-10-09: in the past, as recordings are
MACHINES = 100
SIGNALS = ("power", "current", "vibration", "bearing_temp", "coolant_temp", "speed", "pressure")

PLANT = """
plantwin: 1
name: replay bench
connectors:
  recording: {kind: replay, file: recording.csv, speed: max, batch_rows: 10000}
types:
  machine:
    states: {values: {idle: 0, running: 1, down: 3}}
    signals:
      power: {unit: kW}
      current: {unit: A}
      vibration: {unit: mm/s}
      bearing_temp: {unit: degC}
      coolant_temp: {unit: degC}
      speed: {unit: rpm}
      pressure: {unit: bar}
      flow: {unit: l/min}
      energy: {unit: kWh}
    bindings:
      "*": {connector: recording, address: "{asset}.{signal}"}
sites:
  s:
    lines:
      L:
        assets:
"""


def recording(rows: int) -> pa.Table:
    addresses = [
        f"m{m:03d}.{s}" for m in range(MACHINES) for s in (*SIGNALS, "flow", "energy", "state")
    ]
    per_scan = len(addresses)
    scans = -(-rows // per_scan)
    ts = np.repeat(T0 + np.arange(scans, dtype=np.int64) * NS, per_scan)[:rows]
    values = np.random.default_rng(3).uniform(0.5, 8.0, rows).round(3)
    values[np.array([a.endswith("state") for a in addresses] * scans)[:rows]] = 1.0
    return pa.table(
        {
            "time": pa.array(ts, pa.timestamp("ns", tz="UTC")),
            "address": pa.array((addresses * scans)[:rows]),
            "value": values,
        }
    )


@dataclass(frozen=True, slots=True)
class Figures:
    read: float  # rows/s, pyarrow alone
    open: float  # rows/s, the replay connector's open (read + decode)
    end_to_end: float  # rows/s, plantwin replay into DuckDB
    stored: int


async def _open(path: Path) -> float:
    declared = ConnectorDef(
        name="recording",
        kind="replay",
        description="",
        options={"file": str(path), "time_column": "time", "speed": "max"},
    )
    connector = ReplayConnector(
        name="recording", options=parse_options(declared), clock=WallClock()
    )
    start = time.perf_counter()
    async with connector:
        elapsed = time.perf_counter() - start
        rows = connector.data.rows
    return rows / elapsed


def measure(path: Path, plant: Path, rows: int) -> Figures:
    start = time.perf_counter()
    if path.suffix == ".csv":
        pa_csv.read_csv(path)
    else:
        pq.read_table(path)
    read = rows / (time.perf_counter() - start)
    opened = asyncio.run(_open(path))
    settings = Settings(plant=plant, store=str(path.with_suffix(".duckdb")))
    run, name = plan_replay(settings, file=path, mapping={"time_column": "time"})
    summary = asyncio.run(replay_file(run, name))
    assert summary.rows == rows, summary
    assert summary.dead_letters == 0, summary
    return Figures(read, opened, rows / summary.seconds, summary.stored)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--dir", type=Path, default=None)
    args = parser.parse_args()
    pinned = pin_to_one_core()
    assets = "".join(f"          m{i:03d}: {{type: machine}}\n" for i in range(MACHINES))
    table = recording(args.rows)
    results: dict[str, Figures] = {}
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        plant = Path(tmp) / "plant.yaml"
        plant.write_text(PLANT + assets)
        csv_path = Path(tmp) / "recording.csv"
        iso = pc.strftime(table["time"], format="%Y-%m-%dT%H:%M:%SZ")
        pa_csv.write_csv(table.set_column(0, "time", iso), csv_path)
        parquet_path = Path(tmp) / "recording.parquet"
        pq.write_table(table, parquet_path)
        for label, path in (("csv", csv_path), ("parquet", parquet_path)):
            results[label] = measure(path, plant, args.rows)
    print(f"replay benchmark ({pinned}; {args.rows:,} rows, long layout)")
    header = ("pyarrow read", "connector open", "ratio", "plantwin replay")
    print(f"{'file':8} {header[0]:>14} {header[1]:>15} {header[2]:>6} {header[3]:>16}")
    for label, f in results.items():
        print(
            f"{label:8} {f.read:12,.0f}/s {f.open:13,.0f}/s {f.open / f.read:6.2f} "
            f"{f.end_to_end:14,.0f}/s"
        )
    emit(
        {
            "bench": "replay",
            "rows": args.rows,
            **{
                f"{label}_{key}": round(value) if key != "open_ratio" else round(value, 3)
                for label, f in results.items()
                for key, value in (
                    ("read_rows_per_s", f.read),
                    ("open_rows_per_s", f.open),
                    ("open_ratio", f.open / f.read),
                    ("replay_rows_per_s", f.end_to_end),
                )
            },
        }
    )


if __name__ == "__main__":
    main()

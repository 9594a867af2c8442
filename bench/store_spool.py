"""Store-and-forward spool: how fast failed writes go to disk and come back.

Run: .venv/bin/python -m bench.store_spool [--rows 1000000] [--batch 10000]

Three figures over the same rows (3 signals, ``--batch`` rows per write), in this run:

- baseline: ``DuckDBStore`` writing the batches directly (append + flush per batch), i.e. the
  healthy path a failed write replaces;
- spool: ``SampleSpool.put`` per batch (Arrow IPC file, fsync, rename, directory fsync), i.e.
  what a failed store write costs instead;
- drain: ``DuckDBStore.drain`` of those segments into a fresh store (duplicate check and
  write per segment, then delete).
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

from bench.common import emit, pin_to_one_core
from plantwin.core.samples import SampleBatch
from plantwin.store import DuckDBStore
from plantwin.store.spool import SampleSpool


def batches(rows: int, batch: int) -> list[SampleBatch]:
    per_signal = batch // 3
    out = []
    for start in range(0, rows // 3, per_signal):
        ts = np.arange(start, start + per_signal, dtype=np.int64) * 1_000_000
        out.append(
            SampleBatch.of(
                np.repeat(np.arange(3), per_signal), np.tile(ts, 3), np.tile(ts, 3) * 0.5
            )
        )
    return out


async def direct(path: Path, data: list[SampleBatch]) -> float:
    async with DuckDBStore(path=path, flush_rows=10**9, flush_interval=3600) as store:
        await store.register_signals(["a", "b", "c"])
        start = time.perf_counter()
        for b in data:
            await store.append(b)
            await store.flush()
        return time.perf_counter() - start


def spool_put(directory: Path, data: list[SampleBatch]) -> tuple[float, int]:
    spool = SampleSpool(directory, max_bytes=2**40)
    spool.open()
    start = time.perf_counter()
    for b in data:
        spool.put(b)
    return time.perf_counter() - start, spool.stats().bytes


async def drain(path: Path, directory: Path) -> tuple[float, int]:
    spool = SampleSpool(directory, max_bytes=2**40)
    async with DuckDBStore(path=path, flush_interval=3600, spool=spool) as store:
        await store.register_signals(["a", "b", "c"])
        start = time.perf_counter()
        given = await store.drain()
        return time.perf_counter() - start, given


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=10_000)
    args = parser.parse_args()
    print(pin_to_one_core())
    work = Path(tempfile.mkdtemp(prefix="plantwin-spool-bench-"))
    try:
        data = batches(args.rows, args.batch)
        rows = sum(len(b) for b in data)
        base_s = asyncio.run(direct(work / "direct.duckdb", data))
        put_s, size = spool_put(work / "spool", data)
        drain_s, given = asyncio.run(drain(work / "drained.duckdb", work / "spool"))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    assert given == rows, f"drained {given} of {rows}"
    figures = {
        "bench": "store_spool",
        "rows": rows,
        "batch": args.batch,
        "direct_samples_per_s": rows / base_s,
        "spool_samples_per_s": rows / put_s,
        "drain_samples_per_s": rows / drain_s,
        "spool_bytes_per_sample": size / rows,
        "spool_vs_direct": base_s / put_s,
        "drain_vs_direct": base_s / drain_s,
    }
    print(f"{rows:,} samples in batches of {args.batch:,} (3 signals)")
    print(f"  direct to DuckDB (append+flush): {rows / base_s:>12,.0f} samples/s  (baseline)")
    print(
        f"  into the spool (fsync per batch): {rows / put_s:>12,.0f} samples/s  "
        f"({base_s / put_s:.2f}x baseline), {size / rows:.1f} bytes/sample on disk"
    )
    print(
        f"  drained from the spool:           {rows / drain_s:>12,.0f} samples/s  "
        f"({base_s / drain_s:.2f}x baseline)"
    )
    emit(figures)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

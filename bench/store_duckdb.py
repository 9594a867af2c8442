"""DuckDBStore throughput and query time, against raw DuckDB measured in the same run.

Run: .venv/bin/python bench/store_duckdb.py [--rows 10_000_000] [--dir /tmp]

1. raw DuckDB: 1000-row and 100k-row Arrow inserts, one transaction each;
2. DuckDBStore.append in 1000-sample batches (coalesced), end to end incl. the final flush;
3. the same with every batch replayed once (all duplicates go through the late path);
4. history of one signal over one hour (raw and 1-minute buckets) on a table of --rows rows.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa

from bench.common import emit
from plantwin.core.samples import SampleBatch
from plantwin.core.store import HistoryQuery
from plantwin.store import DuckDBStore

NS = 1_000_000_000
T0 = 1_700_000_000 * NS
SIGNALS = 100


def batches(total: int, size: int) -> Iterator[SampleBatch]:
    """Time-ordered batches: every signal once per second (1 Hz), ``size`` rows each."""
    rng = np.random.default_rng(1)
    sig = np.tile(np.arange(SIGNALS, dtype=np.int32), size // SIGNALS)
    for start in range(0, total, size):
        second = (start + np.arange(size)) // SIGNALS
        yield SampleBatch(
            signal=sig,
            ts=T0 + second.astype(np.int64) * NS,
            value=rng.normal(size=size),
            quality=np.zeros(size, np.uint8),
        )


def raw_inserts(path: Path, total: int, size: int) -> float:
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE samples (signal INTEGER, ts BIGINT, value DOUBLE, quality UTINYINT)")
    t = time.perf_counter()
    for b in batches(total, size):
        tbl = pa.table({c: pa.array(getattr(b, c)) for c in SampleBatch.COLUMNS})
        con.register("tbl", tbl)
        con.execute("BEGIN")
        con.execute("INSERT INTO samples SELECT * FROM tbl")
        con.execute("COMMIT")
        con.unregister("tbl")
    elapsed = time.perf_counter() - t
    con.close()
    return total / elapsed


async def store_appends(path: Path, total: int, *, replay: bool) -> float:
    async with DuckDBStore(path=path) as store:
        await store.register_signals([f"s{i}" for i in range(SIGNALS)])
        t = time.perf_counter()
        for b in batches(total, 1000):
            await store.append(b)
            if replay:
                await store.append(b)
        await store.flush()
        elapsed = time.perf_counter() - t
        assert store.stats().committed_samples == total
    return total / elapsed


async def history_times(path: Path, rows: int) -> dict[str, float]:
    async with DuckDBStore(path=path, flush_rows=1_000_000) as store:
        await store.register_signals([f"s{i}" for i in range(SIGNALS)])
        t = time.perf_counter()
        for b in batches(rows, 100_000):
            await store.append(b)
        await store.flush()
        print(f"loaded {rows:,} rows in {time.perf_counter() - t:.1f} s")
        mid = T0 + (rows // SIGNALS // 2) * NS
        medians: dict[str, float] = {}
        for every, label in ((None, "raw"), (60 * NS, "1-min buckets")):
            q = HistoryQuery(signal=42, start=mid, end=mid + 3600 * NS, every=every)
            times = []
            for _ in range(7):
                t = time.perf_counter()
                h = await store.history(q)
                times.append(time.perf_counter() - t)
            ms = statistics.median(times) * 1000
            print(f"one hour of one signal, {label}: {len(h)} rows, median {ms:.1f} ms")
            medians["history_raw_ms" if every is None else "history_1m_buckets_ms"] = round(ms, 2)
        return medians


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--append-rows", type=int, default=2_000_000)
    parser.add_argument("--dir", default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        d = Path(tmp)
        n = args.append_rows
        small = raw_inserts(d / "raw_small.db", n, 1000)
        big = raw_inserts(d / "raw_big.db", n, 100_000)
        coalesced = asyncio.run(store_appends(d / "store.db", n, replay=False))
        replayed = asyncio.run(store_appends(d / "replay.db", n, replay=True))
        print(f"raw DuckDB, 1000-row inserts:    {small / 1e6:6.2f} M rows/s")
        print(f"raw DuckDB, 100k-row inserts:    {big / 1e6:6.2f} M rows/s")
        print(
            f"DuckDBStore, 1000-sample appends: {coalesced / 1e6:6.2f} M samples/s "
            f"({coalesced / small:.1f}x raw 1000-row, {coalesced / big:.2f}x raw 100k-row)"
        )
        print(f"DuckDBStore, each batch twice:   {replayed / 1e6:6.2f} M unique samples/s")
        medians = asyncio.run(history_times(d / "history.db", args.rows))
    emit(
        {
            "bench": "store",
            "store_samples_per_s": round(coalesced),
            "raw_1000_rows_per_s": round(small),
            "raw_100k_rows_per_s": round(big),
            "ratio_vs_raw_100k": round(coalesced / big, 4),
            "replayed_unique_samples_per_s": round(replayed),
            "history_table_rows": args.rows,
            **medians,
        }
    )


if __name__ == "__main__":
    main()

"""Writer process for tests/store/test_duckdb.py: appends and flushes until it is killed.

Usage: python sigkill_writer.py FILE

Each round appends 3 signals x 10,000 samples whose first half repeats the previous round (so
duplicates keep arriving), flushes, and prints the committed sample count. A round thus adds
30,000 samples the first time and 15,000 after that; a file holding any other count lost
part of a flush or kept part of one.
"""

from __future__ import annotations

import asyncio
import sys

import numpy as np

from plantwin.core.samples import SampleBatch
from plantwin.store import DuckDBStore

ROUND = 10_000
STEP = 5_000


async def main(path: str) -> None:
    async with DuckDBStore(path=path, flush_rows=10**9, flush_interval=3600) as store:
        ids = await store.register_signals(["line/a", "line/b", "line/c"])
        sig = np.repeat(np.array(list(ids.values()), np.int32), ROUND)
        rng = np.random.default_rng(0)
        i = 0
        while True:
            ts = np.tile(np.arange(i * STEP, i * STEP + ROUND, dtype=np.int64), 3) * 1_000_000
            await store.append(
                SampleBatch(
                    signal=sig,
                    ts=ts,
                    value=rng.normal(size=3 * ROUND),
                    quality=np.zeros(3 * ROUND, np.uint8),
                )
            )
            await store.flush()
            print(store.stats().committed_samples, flush=True)
            i += 1


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))

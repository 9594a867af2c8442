"""Writer process for tests/store/test_spool.py: spools until it is killed.

Usage: python spool_kill_writer.py STORE_FILE SPOOL_DIR

Writes 3 signals x 20,000 warm-up samples, then makes the store's disk refuse writes (see
disk_faults.py) and appends rounds of 3 x 100 samples, each followed by a flush; a flush
returns once the round is durable in the spool, and the round's number is printed then.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import numpy as np

from plantwin.core.samples import SampleBatch
from plantwin.store import DuckDBStore
from plantwin.store.spool import SampleSpool

sys.path.insert(0, str(Path(__file__).parents[2]))
from tests.store.disk_faults import store_disk_refuses_writes


def rows(start: int, count: int) -> SampleBatch:
    ts = np.arange(start, start + count, dtype=np.int64)
    return SampleBatch.of(np.repeat(np.arange(3), count), np.tile(ts, 3), np.tile(ts, 3) * 1.0)


async def main(path: Path, spool_dir: Path) -> None:
    spool = SampleSpool(spool_dir, max_bytes=10**8)
    async with DuckDBStore(path=path, flush_rows=10**9, flush_interval=3600, spool=spool) as store:
        await store.register_signals(["a", "b", "c"])
        await store.append(rows(0, 20_000))
        await store.flush()
        with store_disk_refuses_writes(path):
            i = 0
            while True:
                await store.append(rows(20_000 + i * 100, 100))
                await store.flush()
                print(i, flush=True)
                i += 1


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1]), Path(sys.argv[2])))

"""Store backends the contract suite runs over; a new backend adds itself to ``BACKENDS``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from plantwin.core.store import Store
from plantwin.store import DuckDBStore, MemoryStore

BACKENDS = ["memory", "duckdb", "duckdb-tiny-flush"]
PERSISTENT = ["duckdb", "duckdb-tiny-flush"]  # keep their data across a close and reopen


@dataclass(frozen=True, slots=True, kw_only=True)
class Backend:
    """Opens stores on one data set; ``persistent`` ones keep it across a close and reopen."""

    name: str
    persistent: bool
    make: Callable[[], Store]


def make_backend(name: str, tmp_path: Path) -> Backend:
    if name == "memory":
        store = MemoryStore()
        return Backend(name=name, persistent=False, make=lambda: store)
    # "duckdb-tiny-flush" writes every few rows, so duplicates meet committed rows as well as
    # pending ones; "duckdb" keeps everything pending until a flush.
    rows = 3 if name == "duckdb-tiny-flush" else 100_000
    path = tmp_path / "store.duckdb"
    return Backend(name=name, persistent=True, make=lambda: DuckDBStore(path=path, flush_rows=rows))

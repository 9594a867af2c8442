"""Store implementations of :class:`plantwin.core.store.Store`.

``MemoryStore`` is the reference the contract suite checks; ``DuckDBStore`` is the embedded
default. Only ``plantwin.runtime`` should name them.
"""

from plantwin.store.duckdb_store import DuckDBStore
from plantwin.store.memory import MemoryStore

__all__ = ["DuckDBStore", "MemoryStore"]

"""A real disk fault for the store: files of this process may not grow past a size.

``RLIMIT_FSIZE`` makes the kernel refuse (EFBIG, "File too large") every write that would
take a file of this process past the limit, as a full disk refuses a write. Set just above
the size of the store's write-ahead log, it fails the store's next commit, while spool
segments, smaller than that, are still written. Lifting the limit is the disk coming back.
"""

from __future__ import annotations

import resource
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def wal_size(store_file: Path) -> int:
    wal = store_file.with_name(store_file.name + ".wal")
    return wal.stat().st_size if wal.exists() else 0


@contextmanager
def files_may_not_grow_past(limit: int) -> Iterator[None]:
    """Refuse writes past ``limit`` bytes in any file of this process, until the block ends."""
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    previous = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # an error, not a killed process
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
        signal.signal(signal.SIGXFSZ, previous)


@contextmanager
def store_disk_refuses_writes(store_file: Path, *, headroom: int = 64 * 1024) -> Iterator[None]:
    """The store's next commit fails for real until the block ends.

    Needs a write-ahead log larger than ``headroom`` (write some samples first), so that
    spool segments up to that size still fit.
    """
    size = wal_size(store_file)
    if size <= headroom:
        msg = f"write-ahead log of {store_file} is {size} bytes; write more than {headroom} first"
        raise AssertionError(msg)
    with files_may_not_grow_past(size + 1):
        yield

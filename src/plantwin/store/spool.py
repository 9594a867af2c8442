"""Store-and-forward spool: samples a store could not write, kept on local disk until it can.

When a write to the store fails, the store hands the rows of that write to the spool instead
of keeping them in memory; a background drain gives them back, oldest first, once writes work
again. The spool is a directory of append-only segment files, one per failed write, each an
Arrow IPC file. A segment is written to ``*.tmp``, fsynced, then renamed to its final name and
the directory fsynced: the rename is the commit marker, so a process killed mid-write leaves
only a ``*.tmp`` file, which the next open deletes (those rows were never reported durable).

The final name carries the sequence number, the wall-clock time of the write (ns) and the
row count, so opening a spool of many segments reads no file contents.

The spool is bounded by bytes. A segment that would go beyond the bound is not written:
``put`` returns False and the caller keeps the rows (the store keeps them pending in memory,
so they are not reported durable); a full spell is logged once. ``dropped`` counts only rows
really lost: those of a segment that cannot be read back, or whose signal ids the store does
not know (:meth:`SampleSpool.set_aside`). Such a segment is renamed ``*.bad`` and logged.

Every method does blocking file I/O; the store calls them from worker threads (a flush puts
while a drain reads), so the index and the counters are guarded by a lock and ``stats()``
is one consistent snapshot.
"""

from __future__ import annotations

import logging
import os
import re
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa

from plantwin.core.errors import StoreError
from plantwin.core.samples import SampleBatch

log = logging.getLogger(__name__)

_NAME = re.compile(r"^(\d{12})-(\d+)-(\d+)\.arrow$")
_SCHEMA = pa.schema(
    [("signal", pa.int32()), ("ts", pa.int64()), ("value", pa.float64()), ("quality", pa.uint8())]
)


@dataclass(frozen=True, slots=True)
class Segment:
    path: Path
    seq: int
    written: int  # wall-clock ns when it was spooled
    rows: int
    size: int  # bytes on disk


@dataclass(frozen=True, slots=True, kw_only=True)
class SpoolStats:
    samples: int  # rows waiting in the spool
    bytes: int
    oldest_ns: int | None  # wall-clock time the oldest waiting segment was written
    dropped: int  # rows lost: in segments set aside as unreadable or of unknown signals
    refusals: int  # writes the full spool turned away (a retry counts again); not lost:
    # the store keeps their samples pending in memory, unconfirmed to their sources
    spooled: int  # rows ever put into the spool (this process)
    drained: int  # rows ever taken out after the store accepted them (this process)


class SampleSpool:
    """Bounded directory of segment files; first in, first out."""

    def __init__(
        self, directory: str | Path, *, max_bytes: int, wall_ns: Callable[[], int] = time.time_ns
    ) -> None:
        if max_bytes < 1:
            msg = f"spool bound must be at least 1 byte, got {max_bytes}"
            raise ValueError(msg)
        self.directory = Path(directory)
        self.max_bytes = max_bytes
        self._wall_ns = wall_ns
        self._segments: deque[Segment] = deque()
        self._bytes = self._rows = 0
        self._next_seq = 0
        self.dropped = self.refusals = self.spooled = self.drained = 0
        self._lock = threading.Lock()  # the index and counters: a flush and a drain overlap
        self._full = False  # logged "full" already; cleared once a segment fits again

    def open(self) -> None:
        """Delete unfinished writes and index the committed segments.

        The directory is made by the first write, so a store that never failed has none.
        """
        with self._lock:
            self._segments, self._bytes, self._rows, self._next_seq = deque(), 0, 0, 0
        if not self.directory.exists():
            return
        try:
            for tmp in self.directory.glob("*.tmp"):
                tmp.unlink()  # killed mid-write: never reported durable, so nothing is lost
            found = []
            for path in self.directory.iterdir():
                match = _NAME.match(path.name)
                if match is not None:
                    seq, written, rows = (int(g) for g in match.groups())
                    found.append(Segment(path, seq, written, rows, path.stat().st_size))
        except OSError as err:
            msg = f"cannot open the spool directory {self.directory}: {err}"
            raise StoreError(msg) from err
        found.sort(key=lambda s: s.seq)
        with self._lock:
            self._segments = deque(found)
            self._bytes = sum(s.size for s in found)
            self._rows = sum(s.rows for s in found)
            self._next_seq = found[-1].seq + 1 if found else 0
        if found:
            log.info("spool %s holds %d samples to deliver", self.directory, self._rows)

    def __len__(self) -> int:
        """Segments waiting."""
        return len(self._segments)

    def put(self, batch: SampleBatch) -> bool:
        """Write ``batch`` as one durable segment; False (nothing kept) if the bound refused it.

        The caller keeps refused rows. Raises StoreError when the disk refuses the write;
        nothing is kept then either. One caller at a time (the store's flush).
        """
        if len(batch) == 0:
            return True
        seq, written = self._next_seq, self._wall_ns()
        final = self.directory / f"{seq:012d}-{written}-{len(batch)}.arrow"
        tmp = final.with_name(final.name + ".tmp")
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            size = _write_synced(tmp, batch)
            with self._lock:  # a drain may free room meanwhile; the check and the add are one
                if self._bytes + size > self.max_bytes:
                    tmp.unlink()
                    self._refuse(len(batch), size)
                    return False
                tmp.rename(final)
                self._next_seq += 1
                self._segments.append(Segment(final, seq, written, len(batch), size))
                self._bytes += size
                self._rows += len(batch)
                self.spooled += len(batch)
                was_full, self._full = self._full, False
            _sync_directory(self.directory)
        except OSError as err:
            tmp.unlink(missing_ok=True)
            msg = f"cannot write {len(batch)} samples to the spool {self.directory}: {err}"
            raise StoreError(msg) from err
        if was_full:
            log.info("spool %s has room again", self.directory)
        return True

    def _refuse(self, rows: int, size: int) -> None:
        self.refusals += 1
        if not self._full:
            log.error(
                "spool %s is full (%d of %d bytes; %d more needed): %d samples stay in memory, "
                "unconfirmed to their sources, and so does every further write until it drains; "
                "past the store's memory bound new samples are refused (see store.spool_refusals)",
                self.directory,
                self._bytes,
                self.max_bytes,
                size,
                rows,
            )
        self._full = True

    def oldest(self) -> Segment | None:
        with self._lock:
            return self._segments[0] if self._segments else None

    def waiting(self) -> list[Segment]:
        """Every waiting segment, oldest first."""
        with self._lock:
            return list(self._segments)

    def read(self, segment: Segment) -> SampleBatch | None:
        """The rows of a segment; None (logged, counted as dropped, set aside) if unreadable."""
        try:
            with pa.OSFile(str(segment.path), "rb") as source:
                table = pa.ipc.open_file(source).read_all()
            if table.schema != _SCHEMA or table.num_rows != segment.rows:
                msg = f"schema {table.schema} with {table.num_rows} rows"
                raise ValueError(msg)
            return SampleBatch(
                *(np.array(table.column(c).to_numpy(), copy=True) for c in SampleBatch.COLUMNS)
            )
        except (OSError, ValueError, pa.ArrowException) as err:
            self.set_aside(segment, f"unreadable: {err}")
            return None

    def set_aside(self, segment: Segment, why: str) -> None:
        """Give up on a segment that can never be delivered: rename it ``*.bad``, count its rows
        as dropped and log why, so the segments behind it drain."""
        log.error(
            "spool segment %s cannot be delivered (%s); set aside as .bad, %d samples lost",
            segment.path,
            why,
            segment.rows,
        )
        with self._lock:
            self.dropped += segment.rows
            self._forget(segment)
        try:
            segment.path.rename(segment.path.with_name(segment.path.name + ".bad"))
        except OSError:
            log.exception("cannot set aside %s", segment.path)

    def remove(self, segment: Segment) -> None:
        """Delete a segment whose rows the store has committed."""
        try:
            segment.path.unlink(missing_ok=True)
        except OSError as err:
            # Still there: delivered again after a restart, and the store drops the repeats.
            log.warning("cannot delete delivered spool segment %s: %s", segment.path, err)
        with self._lock:
            self._forget(segment)
            self.drained += segment.rows

    def remove_all(self, segments: list[Segment]) -> None:
        for segment in segments:
            self.remove(segment)

    def _forget(self, segment: Segment) -> None:
        """Drop a segment from the index; the caller holds the lock."""
        if self._segments and self._segments[0] == segment:
            self._segments.popleft()
        else:
            self._segments.remove(segment)
        self._bytes -= segment.size
        self._rows -= segment.rows

    def stats(self) -> SpoolStats:
        with self._lock:
            oldest = self._segments[0].written if self._segments else None
            return SpoolStats(
                samples=self._rows,
                bytes=self._bytes,
                oldest_ns=oldest,
                dropped=self.dropped,
                refusals=self.refusals,
                spooled=self.spooled,
                drained=self.drained,
            )


def _write_synced(path: Path, batch: SampleBatch) -> int:
    """Write one Arrow IPC file and fsync it; its size in bytes."""
    table = pa.table({c: pa.array(getattr(batch, c)) for c in SampleBatch.COLUMNS}, _SCHEMA)
    with path.open("wb") as file:
        with pa.ipc.new_file(file, _SCHEMA) as writer:
            writer.write_table(table)
        file.flush()
        os.fsync(file.fileno())
        return file.tell()


def _sync_directory(directory: Path) -> None:
    """Make a rename durable: fsync the directory entry."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)

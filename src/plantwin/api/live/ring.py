"""A bounded ring of recent live messages, each with a sequence number.

One global sequence over everything the live API carries (sample batches and records), so a
client resuming after a reconnect names one number and the server can tell whether every
message after it is still held.
"""

from __future__ import annotations

import itertools
from collections import deque
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from plantwin.core.samples import SampleBatch


class Kind(StrEnum):
    """What a client can subscribe to."""

    SAMPLES = "samples"
    STATES = "states"
    ALARMS = "alarms"
    COMMANDS = "commands"
    EVENTS = "events"


@dataclass(frozen=True, slots=True)
class Entry:
    seq: int
    at: float  # monotonic seconds when the hub took it: frames group entries by it
    kind: Kind
    twin: str  # "" for sample batches (they span twins)
    batch: SampleBatch | None = None  # samples
    record: dict[str, Any] | None = None  # the record as sent (JSON-ready)


class Ring:
    """The newest entries, bounded by count and by samples held (memory)."""

    def __init__(self, *, max_entries: int, max_samples: int) -> None:
        if max_entries <= 0 or max_samples <= 0:
            msg = f"ring bounds must be positive, got {max_entries} entries, {max_samples} samples"
            raise ValueError(msg)
        self.max_entries = max_entries
        self.max_samples = max_samples
        self._entries: deque[Entry] = deque()
        self._samples = 0
        self.head = 0  # newest sequence number given out; 0: none yet (they start at 1)

    @property
    def oldest(self) -> int:
        """Sequence number of the oldest entry held (head + 1 when empty)."""
        return self._entries[0].seq if self._entries else self.head + 1

    def append(self, entry: Entry) -> None:
        self._entries.append(entry)
        self.head = entry.seq
        self._samples += len(entry.batch) if entry.batch is not None else 0
        while len(self._entries) > self.max_entries or (
            self._samples > self.max_samples and len(self._entries) > 1
        ):
            dropped = self._entries.popleft()
            self._samples -= len(dropped.batch) if dropped.batch is not None else 0

    def since(self, seq: int, limit: int) -> list[Entry]:
        """Up to ``limit`` entries from ``seq`` on; the caller checks ``seq >= oldest`` first."""
        start = seq - self.oldest
        if start < 0:
            msg = f"sequence {seq} is older than the ring (oldest {self.oldest})"
            raise ValueError(msg)
        entries = self._entries
        stop = min(len(entries), start + limit)
        if start <= len(entries) // 2:
            return list(itertools.islice(entries, start, stop))
        # Near the head (a client keeping up): walk from the newest end instead.
        out = list(itertools.islice(reversed(entries), len(entries) - stop, len(entries) - start))
        out.reverse()
        return out

"""The co-simulation seam: a model stepped with the live stream (an FMU, for one)."""

from __future__ import annotations

from typing import Protocol

from plantwin.core.samples import SampleBatch


class StreamModel(Protocol):
    """Reads samples of some signals, gives samples of others (its outputs) up to their time.

    Called in the twin stage after the twin took a batch (raw and derived samples together,
    canonical); what it returns is taken by the twin and seen by the rules with that batch.
    """

    def advance(self, batch: SampleBatch) -> SampleBatch: ...

    def close(self) -> None: ...

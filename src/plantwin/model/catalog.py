"""Signal metadata as arrays indexed by signal id, for vectorised checks on the hot path."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from numpy.typing import NDArray

from plantwin.model.plant import Plant, SignalDef
from plantwin.model.schema import DataType


class SignalCatalog:
    """The plant's signals with their store ids; arrays are indexed by id.

    Ids come from the store (stable across restarts), so they may have gaps; unused slots
    hold ``-inf``/``inf`` limits and no definition.
    """

    def __init__(self, plant: Plant, ids: Mapping[str, int]) -> None:
        missing = [key for key in plant.signals if key not in ids]
        if missing:
            msg = f"signals without a store id: {', '.join(missing[:5])}"
            raise ValueError(msg)
        self.plant = plant
        self.ids: dict[str, int] = {key: ids[key] for key in plant.signals}
        size = max(self.ids.values(), default=-1) + 1
        self.size = size
        self.defs: list[SignalDef | None] = [None] * size
        self.low: NDArray[np.float64] = np.full(size, -np.inf)
        self.high: NDArray[np.float64] = np.full(size, np.inf)
        self.is_bool: NDArray[np.bool_] = np.zeros(size, np.bool_)
        for key, sid in self.ids.items():
            sig = plant.signals[key]
            self.defs[sid] = sig
            if sig.low is not None:
                self.low[sid] = sig.low
            if sig.high is not None:
                self.high[sid] = sig.high
            self.is_bool[sid] = sig.dtype is DataType.BOOL

    def id(self, key: str) -> int:
        return self.ids[key]

    def signal(self, key: str) -> SignalDef:
        return self.plant.signals[key]

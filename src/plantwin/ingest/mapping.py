"""Source address -> signal mapping with each binding's linear unit conversion as arrays."""

from __future__ import annotations

from dataclasses import dataclass
from itertools import repeat

import numpy as np
from numpy.typing import NDArray

from plantwin.model.catalog import SignalCatalog


@dataclass(frozen=True, slots=True)
class ConnectorBindings:
    """One connector's addresses; row i of the arrays belongs to binding i."""

    index: dict[str, int]  # address -> binding row
    signal: NDArray[np.int32]
    a: NDArray[np.float64]
    b: NDArray[np.float64]

    def lookup(self, addresses: list[str]) -> NDArray[np.int64]:
        """Binding row per address, -1 where the address is not bound."""
        return np.fromiter(
            map(self.index.get, addresses, repeat(-1)), dtype=np.int64, count=len(addresses)
        )


def build_bindings(catalog: SignalCatalog) -> dict[str, ConnectorBindings]:
    rows: dict[str, list[tuple[str, int, float, float]]] = {}
    for binding in catalog.plant.bindings:
        if "#" in binding.signal:  # command bindings go the other way
            continue
        rows.setdefault(binding.connector, []).append(
            (binding.address, catalog.id(binding.signal), binding.a, binding.b)
        )
    out: dict[str, ConnectorBindings] = {}
    for connector, items in rows.items():
        out[connector] = ConnectorBindings(
            index={address: i for i, (address, _, _, _) in enumerate(items)},
            signal=np.array([s for _, s, _, _ in items], np.int32),
            a=np.array([a for _, _, a, _ in items], np.float64),
            b=np.array([b for _, _, _, b in items], np.float64),
        )
    return out

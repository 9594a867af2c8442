"""Small builders shared by tests."""

from __future__ import annotations

from plantwin.model.catalog import SignalCatalog
from plantwin.model.plant import Plant

T0 = 1_800_000_000 * 1_000_000_000  # 2027-01-15T08:00:00Z, a fixed plant time for tests
S = 1_000_000_000


def catalog_for(plant: Plant, offset: int = 0) -> SignalCatalog:
    """A catalog with ids in plant order, optionally shifted to exercise non-zero ids."""
    return SignalCatalog(plant, {key: i + offset for i, key in enumerate(plant.signals)})

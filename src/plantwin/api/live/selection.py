"""A client's subscription resolved against the plant: a signal mask and a twin set."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from plantwin.api.live.ring import Kind
from plantwin.api.live.schemas import Subscription
from plantwin.core.errors import PlantwinError
from plantwin.model.catalog import SignalCatalog


class LiveRequestError(PlantwinError):
    """A client's live message is wrong; ``where`` names the part."""

    def __init__(self, where: str, message: str) -> None:
        super().__init__(message)
        self.where = where
        self.message = message


@dataclass(frozen=True, slots=True)
class Selection:
    mask: NDArray[np.bool_]  # by signal id: selected
    twins: frozenset[str]  # twins whose records are sent
    kinds: frozenset[Kind]
    interval_s: float  # shortest time between frames
    key: int  # equal for equal selections: clients with the same one share encoded frames

    @property
    def signal_count(self) -> int:
        return int(self.mask.sum())


def _subtree(catalog: SignalCatalog, twin_id: str) -> Iterable[str]:
    twins = catalog.plant.twins
    todo = [twin_id]
    while todo:
        current = todo.pop()
        yield current
        todo.extend(twins[current].children)


def _hint(name: str, known: Iterable[str]) -> str:
    close = difflib.get_close_matches(name, list(known), n=3)
    return f"; did you mean {', '.join(close)}?" if close else ""


def select(request: Subscription, catalog: SignalCatalog) -> Selection:
    """Resolve twin ids and signal keys; nothing named selects the whole plant."""
    plant = catalog.plant
    mask = np.zeros(catalog.size, np.bool_)
    twins: set[str] = set()
    for i, twin_id in enumerate(request.twins):
        if twin_id not in plant.twins:
            hint = _hint(twin_id, plant.twins)
            raise LiveRequestError(f"subscribe.twins[{i}]", f"no twin '{twin_id}'{hint}")
        for member in _subtree(catalog, twin_id):
            twins.add(member)
            for key in plant.twins[member].signals:
                mask[catalog.id(key)] = True
    for i, key in enumerate(request.signals):
        if key not in catalog.ids:
            hint = _hint(key, catalog.ids)
            raise LiveRequestError(f"subscribe.signals[{i}]", f"no signal '{key}'{hint}")
        mask[catalog.id(key)] = True
        twins.add(plant.signals[key].twin)
    if not request.twins and not request.signals:
        for sid in catalog.ids.values():
            mask[sid] = True
        twins = set(plant.twins)
    kinds = frozenset(request.kinds)
    interval_s = 1.0 / request.max_rate_hz
    return Selection(
        mask=mask,
        twins=frozenset(twins),
        kinds=kinds,
        interval_s=interval_s,
        key=hash((mask.tobytes(), frozenset(twins), kinds, interval_s)),
    )

"""What the API needs from the running twin, handed over by the composition root."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from plantwin.core.clock import Clock
from plantwin.core.store import Store
from plantwin.model.catalog import SignalCatalog
from plantwin.model.plant import Plant
from plantwin.processing.processor import RuleProcessor
from plantwin.twin import TwinState


@dataclass(frozen=True, slots=True, kw_only=True)
class ApiContext:
    plant: Plant
    catalog: SignalCatalog
    twin: TwinState
    store: Store
    clock: Clock
    health: Callable[[], Mapping[str, Any]]  # runtime figures for GET /api/v1/health
    rules: RuleProcessor | None = None  # rules and alarms; None: the API says they are off

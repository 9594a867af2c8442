"""Pure types and protocols shared by every layer: stdlib and numpy only."""

from plantwin.core.clock import Clock, ManualClock, ScaledClock, WallClock
from plantwin.core.errors import (
    BusError,
    ConnectorError,
    PlantModelError,
    PlantwinError,
    QueryError,
    StoreError,
)
from plantwin.core.records import DeadLetter, Event, EventKind, StateChange
from plantwin.core.samples import Quality, RawBatch, SampleBatch

__all__ = [
    "BusError",
    "Clock",
    "ConnectorError",
    "DeadLetter",
    "Event",
    "EventKind",
    "ManualClock",
    "PlantModelError",
    "PlantwinError",
    "Quality",
    "QueryError",
    "RawBatch",
    "SampleBatch",
    "ScaledClock",
    "StateChange",
    "StoreError",
    "WallClock",
]

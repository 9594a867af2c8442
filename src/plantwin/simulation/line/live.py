"""Start a simulation from the live twin: parts in the buffers, machines that are down.

What the twin knows is mapped onto the model's start:
- a buffer's ``level`` signal -> parts waiting before the station it feeds;
- a station in a fault state -> down for the expected rest of its repair: the repair's
  mean minus the time already down, at least a tenth of the mean (the time a repair that
  has already overrun still needs is unknown; this is a stated guess, not a fit).
- a station with a wear mode -> its wearing part's degradation level from the newest
  ``vibration_10m`` (the 10-minute mean, less noisy) or ``vibration`` signal of the asset or
  its components; above the healthy level the model knows how far the part has degraded
  and so when it reaches the alarm and failure levels (``Machine.start_degraded``).
Machines that run, wait or are set up start ready; their current cycle is not resumed.
A remaining-useful-life prediction is not mapped yet: the wear level carries the same
information through the model's own degradation law (docs/simulation.md).
"""

from __future__ import annotations

import math

from plantwin.model.schema import StateCategory
from plantwin.simulation.line.engine import StartState
from plantwin.simulation.line.plant_line import BuiltLine
from plantwin.twin import TwinState

NS = 1_000_000_000
SIGNALS = ("vibration_10m", "vibration")  # degradation signals, preferred first


def start_from_twin(built: BuiltLine, twin: TwinState, now_ns: int) -> StartState:
    buffers: dict[str, int] = {}
    down: dict[str, float] = {}
    wear: dict[str, float] = {}
    for station, asset in built.assets.items():
        view = twin.view(asset)
        spec = built.spec.station(station)
        if view.state is not None and view.state.category is StateCategory.FAULT:
            mean = spec.failures[0].repair.mean if spec.failures else 0.0
            since = view.state.since
            elapsed = (now_ns - since) / NS if since is not None else 0.0
            if mean > 0:
                down[station] = max(mean - elapsed, 0.1 * mean)
        waiting = 0
        for buffer in built.feeders.get(station, ()):
            level = next((s.value for s in twin.view(buffer).signals if s.name == "level"), None)
            if level is not None and math.isfinite(level):
                waiting += max(0, round(level))
        if waiting:
            buffers[station] = waiting
        if spec.wear is not None:
            level = _wear_level(twin, asset)
            if level is not None:
                wear[station] = level
    return StartState(buffers=buffers, down_s=down, wear_level=wear)


def _wear_level(twin: TwinState, asset: str) -> float | None:
    """The newest vibration of the asset or its components (the 10-minute mean first)."""
    found: dict[str, float] = {}
    for node in twin.plant.walk(asset):
        for signal in twin.view(node.id).signals:
            if signal.name in SIGNALS and signal.value is not None and math.isfinite(signal.value):
                found.setdefault(signal.name, signal.value)
    return next((found[name] for name in SIGNALS if name in found), None)

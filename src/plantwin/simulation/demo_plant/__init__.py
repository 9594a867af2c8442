"""The demo plant: a seeded, physically plausible simulator of the example machining line.

``DemoLine`` is the synchronous core (offline history, tests); ``DemoPlant`` wraps it as a
connector paced by a clock. ``DemoSettings`` holds every constant; ``GroundTruth`` records
what really happened (failures, bearing lives, tool changes, inspected parts).
"""

from plantwin.simulation.demo_plant.connector import DemoPlant
from plantwin.simulation.demo_plant.line import DemoLine
from plantwin.simulation.demo_plant.settings import DemoSettings
from plantwin.simulation.demo_plant.truth import GroundTruth

__all__ = ["DemoLine", "DemoPlant", "DemoSettings", "GroundTruth"]

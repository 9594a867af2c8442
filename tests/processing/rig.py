"""A small plant of presses, its live twin and rule engine, fed with rows in test seconds.

Shared by the rule and alarm tests: times are written as seconds after ``T0`` and changes
come back the same way, so expectations read like the scenario they describe.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterable, Sequence
from typing import NamedTuple

from plantwin.core.records import AlarmEvent, Event
from plantwin.core.samples import SampleBatch
from plantwin.model.catalog import SignalCatalog
from plantwin.model.loader import parse_plant
from plantwin.model.plant import Plant
from plantwin.processing.alarms import AlarmSettings
from plantwin.processing.processor import RuleProcessor
from plantwin.processing.rules import ConditionChange, RuleEngine
from plantwin.twin import TwinState
from tests.helpers import T0, S

STATES = {"idle": 0, "running": 1, "down": 3, "maintenance": 4}

Row = tuple[str, float, float] | tuple[str, float, float, int]  # key, seconds, value[, quality]


class Seen(NamedTuple):
    """A condition change as the tests compare it: rule id, seconds after T0, active."""

    rule: str
    t: float
    active: bool


def press_plant(rules: str, *, instances: int = 2, signals: str = "") -> Plant:
    """Presses ``m1``..``mN`` on site ``s``, all of one type carrying ``rules``."""
    text = textwrap.dedent(
        """\
        plantwin: 1
        name: presses
        types:
          press:
            states: {signal: state, values: {idle: 0, running: 1, down: 3, maintenance: 4}}
            signals:
              temp: {unit: degC, range: [0, 100]}
              ref: {unit: degC}
              pressure: {unit: bar, range: [0, 10]}
        """
    )
    text += textwrap.indent(textwrap.dedent(signals).rstrip() + "\n", " " * 6)
    text += "    rules:\n" + textwrap.indent(textwrap.dedent(rules).rstrip() + "\n", " " * 6)
    text += "sites:\n  s:\n    assets:\n"
    text += "".join(f"      m{i}: {{type: press}}\n" for i in range(1, instances + 1))
    return parse_plant(text, "presses.yaml")


def ns(seconds: float) -> int:
    return T0 + round(seconds * S)


def seconds(ts: int) -> float:
    return (ts - T0) / S


def seen(changes: Iterable[ConditionChange]) -> list[Seen]:
    return [Seen(c.rule.id, seconds(c.ts), c.active) for c in changes]


class Rig:
    """Plant, catalog, twin and rule engine, wired as the pipeline wires them."""

    def __init__(self, plant: Plant, *, start: float = 0.0) -> None:
        self.plant = plant
        self.catalog = SignalCatalog(plant, {key: i for i, key in enumerate(plant.signals)})
        self.twin = TwinState(plant, self.catalog)
        self.engine = RuleEngine(plant, self.catalog, start_ns=ns(start))

    def batch(self, rows: Sequence[Row]) -> SampleBatch:
        return SampleBatch.of(
            [self.catalog.id(r[0]) for r in rows],
            [ns(r[1]) for r in rows],
            [r[2] for r in rows],
            [r[3] if len(r) == 4 else 0 for r in rows],
        ).canonical()

    def changes(self, rows: Sequence[Row]) -> list[ConditionChange]:
        batch = self.batch(rows)
        update = self.twin.apply(batch)
        out = self.engine.evaluate(batch, update.changes, self.twin.latest)
        if len(update.derived):
            out += self.engine.evaluate(update.derived, (), self.twin.latest)
        return out

    def feed(self, rows: Sequence[Row]) -> list[Seen]:
        return seen(self.changes(rows))

    def tick(self, at: float) -> list[Seen]:
        return seen(self.engine.tick(ns(at), self.twin.latest))


class ProcessorRig:
    """The same plant behind a :class:`RuleProcessor`, as the pipeline runs it."""

    def __init__(
        self, plant: Plant, *, start: float = 0.0, settings: AlarmSettings | None = None
    ) -> None:
        self.plant = plant
        self.catalog = SignalCatalog(plant, {key: i for i, key in enumerate(plant.signals)})
        self.twin = TwinState(plant, self.catalog)
        self.processor = RuleProcessor(
            self.twin, self.catalog, start_ns=ns(start), settings=settings
        )

    def batch(self, rows: Sequence[Row]) -> SampleBatch:
        return SampleBatch.of(
            [self.catalog.id(r[0]) for r in rows],
            [ns(r[1]) for r in rows],
            [r[2] for r in rows],
            [r[3] if len(r) == 4 else 0 for r in rows],
        ).canonical()

    def feed(self, rows: Sequence[Row]) -> list[AlarmEvent | Event]:
        batch = self.batch(rows)
        update = self.twin.apply(batch)
        # As the pipeline does: raw and derived samples in one pass.
        seen = batch
        if len(update.derived):
            seen = SampleBatch.concat([batch, update.derived]).canonical()
        return self.processor.process(seen, update.changes)

    def tick(self, at: float) -> list[AlarmEvent | Event]:
        return self.processor.tick(ns(at))


def alarm_events(records: Iterable[AlarmEvent | Event]) -> list[AlarmEvent]:
    return [r for r in records if isinstance(r, AlarmEvent)]

"""A small plant for the KPI tests and builders for its state and counter history."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from plantwin.core.records import StateChange
from plantwin.core.samples import SampleBatch
from plantwin.core.store import Store
from plantwin.model.catalog import SignalCatalog
from plantwin.model.loader import parse_plant
from plantwin.model.plant import Plant

S = 1_000_000_000
MIN = 60 * S
H = 60 * MIN
BERLIN = ZoneInfo("Europe/Berlin")

PLANT = """
plantwin: 1
name: KPI test
types:
  machine:
    states:
      values: {idle: 0, running: 1, setup: 2, down: 3, maintenance: 4, off: 5}
    signals:
      part_count: {unit: piece, counter: true}
      good_count: {unit: piece, counter: true}
      scrap_count: {unit: piece, counter: true}
      rework_count: {unit: piece, counter: true}
      energy: {unit: Wh, counter: true}
    kpi:
      produced: part_count
      good: good_count
      scrap: scrap_count
      rework: rework_count
      energy: energy
      ideal_cycle_time: 30 s
sites:
  berlin:
    timezone: Europe/Berlin
    shifts:
      A:
        start: "06:00"
        end: "14:00"
        days: [mon, tue, wed, thu, fri]
        breaks: [{start: "10:00", end: "10:30"}]
      N: {start: "22:00", end: "06:00", days: [mon, tue, wed, thu, fri, sat, sun]}
    lines:
      L:
        kpi: {output: m2}
        assets:
          m1: {type: machine}
          m2: {type: machine, kpi: {ideal_cycle_time: 60 s}}
          nakajima: {type: machine, kpi: {minor_stop: 300 s}}
          plus_one: {type: machine, kpi: {mtbf_divisor: failures_plus_one}}
          counts_only: {type: machine, kpi: {good: null, scrap: null, rework: null}}
          belt: {description: a conveyor without KPIs}
  plain:
    timezone: Asia/Seoul
    assets:
      press: {type: machine}
"""


def plant() -> Plant:
    return parse_plant(PLANT, "kpi-test.yaml")


def catalog(p: Plant) -> SignalCatalog:
    return SignalCatalog(p, {key: i for i, key in enumerate(p.signals)})


def local(text: str, zone: ZoneInfo = BERLIN) -> int:
    """ns UTC of a local wall time 'YYYY-MM-DD HH:MM'."""
    return int(datetime.fromisoformat(text).replace(tzinfo=zone).timestamp()) * S


async def states(store: Store, twin: str, base: int, steps: Sequence[tuple[float, str]]) -> None:
    """State changes at ``base`` + minutes."""
    records = []
    previous: str | None = None
    for minute, state in steps:
        records.append(
            StateChange(ts=base + round(minute * MIN), twin=twin, state=state, previous=previous)
        )
        previous = state
    await store.append_records(records)


async def counter(
    store: Store, cat: SignalCatalog, key: str, base: int, points: Sequence[tuple[float, float]]
) -> None:
    """Counter samples (minutes after ``base``, value)."""
    sid = cat.id(key)
    await store.append(
        SampleBatch.of(
            [sid] * len(points),
            [base + round(m * MIN) for m, _ in points],
            [v for _, v in points],
        )
    )

"""Shift calendars and KPI settings in plant files: resolved values and every problem."""

from __future__ import annotations

from datetime import time

import pytest

from plantwin.model.loader import parse_plant
from plantwin.model.plant import MtbfDivisor, Plant
from plantwin.model.problems import PlantFileError

BROKEN = """\
plantwin: 1
name: broken kpis
types:
  machine:
    states: {values: {idle: 0, running: 1, down: 3}}
    signals:
      part_count: {unit: piece, counter: true}
      power: {unit: kW}
      energy: {unit: kWh, counter: true}
      weight: {unit: kg, counter: true}
    kpi:
      produced: part_cont
      good: power
      scrap: weight
      energy: part_count
      ideal_cycle_time: 52
      minor_stop: 5 kg
    components:
      spindle: {type: spindle}
  stateless:
    signals:
      part_count: {unit: piece, counter: true}
    kpi: {produced: part_count}
  spindle:
    kind: component
    kpi: {}
  bad_divisor:
    states: {values: {idle: 0}}
    kpi: {mtbf_divisor: twice}
sites:
  s:
    timezone: Europe/Berlin
    shifts:
      A: {start: "6:00", end: "14:00", days: [mon, tuesday, thurs]}
      B: {start: "14:00", end: "22:00", breaks: [{start: "23:00", end: "23:30"}]}
      C: {start: "21:00", end: "06:00", days: [sun]}
    lines:
      L:
        kpi: {output: m1x}
        assets:
          m1: {type: machine, kpi: {ideal_cycle_time: 0 s}}
          m2: {type: stateless}
          m3: {type: machine}
"""


def _problems(text: str) -> list[str]:
    with pytest.raises(PlantFileError) as info:
        parse_plant(text, "broken.yaml")
    return [p.render("broken.yaml") for p in info.value.problems]


def test_every_kpi_and_calendar_problem_is_reported_with_its_line() -> None:
    problems = _problems(BROKEN)
    expected = [
        "broken.yaml:12 types.machine.kpi.produced: unknown signal 'part_cont' of this twin;"
        " did you mean 'part_count'?",
        "broken.yaml:13 types.machine.kpi.good: signal 'power' is not a counter;"
        " declare it with 'counter: true'",
        "broken.yaml:14 types.machine.kpi.scrap: 'weight' counts parts; its unit must be piece",
        "broken.yaml:15 types.machine.kpi.energy: energy counter 'part_count' is in piece,"
        " not an energy unit",
        "broken.yaml:16 types.machine.kpi.ideal_cycle_time: 52 has no unit; write a time",
        "broken.yaml:17 types.machine.kpi.minor_stop: '5 kg' is not a time",
        "broken.yaml:23 types.stateless.kpi: KPIs need a state model",
        "broken.yaml:26 types.spindle.kpi: kpi settings belong to assets",
        "broken.yaml:29 types.bad_divisor.kpi.mtbf_divisor: Input should be 'failures' or"
        " 'failures_plus_one'",
        "broken.yaml:34 sites.s.shifts.A.start: '6:00' is not a local time; write 'HH:MM'",
        "broken.yaml:34 sites.s.shifts.A.days.2: unknown weekday 'thurs' (mon, tue, ... sun);"
        " did you mean 'thu'?",
        "broken.yaml:35 sites.s.shifts.B.breaks.0: break 23:00-23:30 is not inside shift"
        " 14:00-22:00",
        "broken.yaml:36 sites.s.shifts.C: shift 'C' overlaps shift 'B'",
        "broken.yaml:39 sites.s.lines.L.kpi.output: no asset 'm1x' on this line;"
        " did you mean 'm1'?",
        "broken.yaml:41 sites.s.lines.L.assets.m1.kpi.ideal_cycle_time: '0 s' must be longer"
        " than zero",
    ]
    for start in expected:
        assert any(p.startswith(start) for p in problems), f"missing: {start}\n" + "\n".join(
            problems
        )


def test_example_plant_has_kpis_and_a_three_shift_calendar(example_plant: Plant) -> None:
    calendar = example_plant.calendar("changwon.L1.mill1")
    assert calendar.zone == "Asia/Seoul"
    assert [(s.name, s.start, s.end) for s in calendar.shifts] == [
        ("A", time(6), time(14)),
        ("B", time(14), time(22)),
        ("C", time(22), time(6)),
    ]
    mill = example_plant.twins["changwon.L1.mill1"].kpi
    lathe = example_plant.twins["changwon.L1.lathe1"].kpi
    cmm = example_plant.twins["changwon.L1.cmm1"].kpi
    assert mill is not None
    assert lathe is not None
    assert cmm is not None
    assert (mill.produced, mill.ideal_cycle_s) == ("changwon.L1.mill1/part_count", 90.0)
    assert lathe.ideal_cycle_s == 75.0  # the instance refines its type's setting
    assert lathe.energy == "changwon.L1.lathe1/energy"  # and keeps the rest
    assert (cmm.produced, cmm.good) == (None, "changwon.L1.cmm1/good_count")
    assert mill.minor_stop_s == 0.0
    assert mill.mtbf_divisor is MtbfDivisor.FAILURES
    line = example_plant.twins["changwon.L1"].kpi
    assert line is not None
    assert line.output == "changwon.L1.cmm1"
    assert example_plant.twins["changwon.L1.buf_in"].kpi is None


def test_energy_counter_in_wh_is_converted_and_no_calendar_means_24_7() -> None:
    plant = parse_plant(
        """
plantwin: 1
name: ok
types:
  tool:
    kind: component
    signals:
      parts: {unit: piece, counter: true}
  t:
    states: {values: {idle: 0, running: 1}}
    signals:
      e: {unit: Wh, counter: true}
    components:
      tool: {type: tool}
sites:
  s:
    assets:
      m:
        type: t
        kpi: {produced: tool.parts, energy: e, minor_stop: 5 min, mtbf_divisor: failures_plus_one}
"""
    )
    kpi = plant.twins["s.m"].kpi
    assert kpi is not None
    assert kpi.energy_to_kwh == pytest.approx(0.001)
    assert kpi.produced == "s.m.tool/parts"  # a component's counter, by dotted path
    assert kpi.minor_stop_s == 300.0
    assert kpi.mtbf_divisor is MtbfDivisor.FAILURES_PLUS_ONE
    assert plant.calendar("s.m").shifts == ()

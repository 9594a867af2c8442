"""A command's closed loop in the plant file: reports, tolerance, timeout, interlocks."""

from __future__ import annotations

import textwrap

import pytest

from plantwin.model.loader import parse_plant
from plantwin.model.plant import Plant
from plantwin.model.problems import PlantFileError

HEATER = """\
plantwin: 1
name: cmd
connectors: {{c: {{kind: opcua}}}}
types:
  heater:
    properties: {{max_temp: 95}}
    states: {{values: {{idle: 0, running: 1}}}}
    signals:
      setpoint: {{unit: degC}}
      tank_temp: {{unit: degC}}
      door: {{unit: dimensionless, type: bool}}
    commands:
      set_temp:
        params: {{temp: {{type: float, unit: degF, min: 32, max: 200}}}}
        binding: {{connector: c, address: "{{asset}}/sp"}}
{loop}
    bindings:
      "*": {{connector: c, address: "{{asset}}/{{signal}}"}}
sites:
  s:
    assets:
      h1: {{type: heater}}
"""


def _plant(loop: str) -> Plant:
    return parse_plant(
        HEATER.format(loop=textwrap.indent(textwrap.dedent(loop), " " * 8)), "h.yaml"
    )


def _problems(loop: str) -> list[str]:
    with pytest.raises(PlantFileError) as info:
        _plant(loop)
    return [p.render("h.yaml") for p in info.value.problems]


def test_reports_tolerance_timeout_and_interlocks_are_resolved() -> None:
    plant = _plant("""\
        reports: setpoint
        tolerance: 0.5 K
        timeout: 2 min
        interlocks:
          - {when: "door > 0 or tank_temp > max_temp", message: "door open or tank too hot"}
        """)
    (cmd,) = plant.twins["s.h1"].commands
    assert cmd.reports is not None
    assert cmd.reports.signal == "s.h1/setpoint"
    # 212 degF is reported as 100 degC; the tolerance is a difference: 0.5 K is 0.5 degC.
    assert cmd.reports.a * 212 + cmd.reports.b == pytest.approx(100.0)
    assert cmd.reports.tolerance == pytest.approx(0.5)
    assert cmd.timeout_ns == 120 * 10**9
    (lock,) = cmd.interlocks
    assert dict(lock.inputs) == {"door": "s.h1/door", "tank_temp": "s.h1/tank_temp"}
    assert dict(lock.constants) == {"max_temp": 95.0}
    assert lock.message == "door open or tank too hot"


def test_every_mistake_is_reported_with_its_line() -> None:
    problems = _problems("""\
        reports: nosuch
        timeout: 5 kg
        interlocks:
          - {when: "door >", message: x}
          - {when: "flow > 3"}
          - {when: "__import__('os')"}
        """)
    expected = [
        "h.yaml:16 types.heater.commands.set_temp.reports: unknown signal 'nosuch' of s.h1",
        "h.yaml:17 types.heater.commands.set_temp.timeout: '5 kg' is not a duration",
        "h.yaml:19 types.heater.commands.set_temp.interlocks.0.when: cannot parse expression",
        "h.yaml:20 types.heater.commands.set_temp.interlocks.1.when: unknown name 'flow'",
        "h.yaml:21 types.heater.commands.set_temp.interlocks.2.when: function '__import__' is not",
    ]
    for start in expected:
        assert any(p.startswith(start) for p in problems), f"missing {start}:\n" + "\n".join(
            problems
        )
    assert len(problems) == len(expected)


def test_a_report_in_another_dimension_or_a_tolerance_without_report_is_refused() -> None:
    problems = _problems("""\
        reports: door
        """)
    assert any("cannot be reported on 'door'" in p for p in problems), problems
    problems = _problems("""\
        tolerance: 1 K
        """)
    assert problems == [
        "h.yaml:16 types.heater.commands.set_temp.tolerance: tolerance needs 'reports' "
        "(the signal it applies to)"
    ]


def test_unknown_keys_in_an_interlock_get_a_hint() -> None:
    problems = _problems("""\
        interlocks:
          - {when: "door > 0", mesage: x}
        """)
    assert any("interlocks.0.mesage" in p and "unknown key" in p for p in problems), problems

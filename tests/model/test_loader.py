"""The plant file loader: the example resolves fully, and broken files report every problem."""

from __future__ import annotations

import textwrap

import pytest

from plantwin.model.loader import parse_plant
from plantwin.model.plant import Plant, TwinKind
from plantwin.model.problems import PlantFileError
from plantwin.model.schema import StateCategory


def test_example_plant_resolves_types_into_the_tree(example_plant: Plant) -> None:
    kinds = dict.fromkeys(TwinKind, 0)
    for twin in example_plant.twins.values():
        kinds[twin.kind] += 1
    assert kinds == {TwinKind.SITE: 1, TwinKind.LINE: 1, TwinKind.ASSET: 10, TwinKind.COMPONENT: 4}
    mill = example_plant.twins["changwon.L1.mill1"]
    assert mill.children == ("changwon.L1.mill1.spindle", "changwon.L1.mill1.tool")
    assert mill.properties["maker"] == "DN Solutions"  # from the type
    assert str(mill.properties["install_date"]) == "2019-04-01"  # from the instance
    lathe = example_plant.twins["changwon.L1.lathe1"]
    assert lathe.properties["maker"] == "Hyundai WIA"  # instance overrides the type
    assert mill.states is not None
    assert {s.name: s.category for s in mill.states.states}["down"] is StateCategory.FAULT


def test_component_property_override_reaches_derived_constant(example_plant: Plant) -> None:
    mill_load = example_plant.signals["changwon.L1.mill1.spindle/load"].derived
    lathe_load = example_plant.signals["changwon.L1.lathe1.spindle/load"].derived
    assert mill_load is not None
    assert lathe_load is not None
    assert mill_load.constants == {"rated_power": 18.5}
    assert lathe_load.constants == {"rated_power": 15.0}
    assert mill_load.scale == pytest.approx(100.0)  # kW/kW -> percent


def test_bindings_fold_scale_and_unit_conversion(example_plant: Plant) -> None:
    by_signal = {b.signal: b for b in example_plant.bindings}
    pressure = by_signal["changwon.compressor1/pressure"]
    assert pressure.address == "changwon/compressor1/pressure_psi"
    assert pressure.a * 100 + pressure.b == pytest.approx(6.894757, rel=1e-6)  # 100 psi in bar
    tank = by_signal["changwon.L1.washer1/tank_temp"]
    assert (tank.address, tank.a, tank.b) == ("L1/washer1/tank_temp_x10", 0.1, 0.0)
    vibration = by_signal["changwon.L1.mill1.spindle/vibration"]
    assert vibration.address == "L1/mill1/spindle/vibration"
    derived = [k for k, s in example_plant.signals.items() if s.derived is not None]
    assert not set(derived) & set(by_signal)  # derived signals are never bound
    setpoint = by_signal["changwon.compressor1#set_pressure"]
    assert setpoint.a * 7.0 == pytest.approx(101.526, rel=1e-4)  # bar -> psi for the write


def test_cross_twin_derived_signal_on_a_line(example_plant: Plant) -> None:
    line_power = example_plant.signals["changwon.L1/power"].derived
    assert line_power is not None
    assert set(line_power.inputs.values()) == {
        f"changwon.L1.{m}/power" for m in ("mill1", "lathe1", "washer1", "cmm1")
    }


BROKEN = """\
plantwin: 1
name: broken
connectors:
  demo: {kind: demo}
  plc: {kind: modbus}
types:
  pump:
    signals:
      flow: {unit: m**3/h, range: [10, 5]}
      temp: {unit: degC2}
      head: {unit: m, expr: rate * 2}
      a: {unit: kW, expr: b + 1}
      b: {unit: kW, expr: a}
      c: {unit: kW, expr: __import__('os')}
      d: {unit: kW, expr: nosuch * 2}
      rate: {unit: m**3/h}
    states:
      values: {idle: 0, running: 0, spinning: 2}
    bindings:
      "*": {connector: demo, address: "{line}/{asset}/{signal}"}
      rate: {connector: demo, address: "x/rate", unit: kPa}
sites:
  s1:
    timezone: Mars/Olympus
    assets:
      p0: {type: pump}
      p1: {type: pump, colour: red}
    lines:
      L1:
        assets:
          p2: {type: pumpp}
          p3:
            type: pump
            bindings:
              temp: {connector: opc, address: "x/flow"}
"""


def _problems(text: str) -> list[str]:
    with pytest.raises(PlantFileError) as info:
        parse_plant(text, "broken.yaml")
    return [p.render("broken.yaml") for p in info.value.problems]


def test_broken_file_reports_every_problem_with_line_and_path() -> None:
    problems = _problems(BROKEN)
    expected = [
        "broken.yaml:5 connectors.plc.kind: unknown connector kind 'modbus'",
        "broken.yaml:9 types.pump.signals.flow.range: range low 10 is not below high 5",
        "broken.yaml:10 types.pump.signals.temp.unit: unknown unit 'degC2'",
        "broken.yaml:11 types.pump.signals.head.expr: expression gives m³/h ([length] ** 3 / [time]),"
        " which cannot be expressed in the signal's unit 'm' ([length])",
        "broken.yaml:12 types.pump.signals.a.expr: units do not combine",
        "broken.yaml:14 types.pump.signals.c.expr: function '__import__' is not allowed",
        "broken.yaml:15 types.pump.signals.d.expr: unknown name 'nosuch'",
        "broken.yaml:18 types.pump.states.values.running: state code 0 is already used by 'idle'",
        "broken.yaml:18 types.pump.states.values.spinning: state 'spinning' needs a category",
        "broken.yaml:21 types.pump.bindings.rate.unit: unit 'kPa' ([mass] / [length] / [time] ** 2)"
        " cannot be converted to 'm³/h'",
        "broken.yaml:20 types.pump.bindings.*.address: placeholder {line} has no value here",
        "broken.yaml:24 sites.s1.timezone: unknown time zone 'Mars/Olympus'",
        "broken.yaml:27 sites.s1.assets.p1.colour: unknown key 'colour'",
        "broken.yaml:31 sites.s1.lines.L1.assets.p2.type: unknown type 'pumpp' (types: pump)",
        "broken.yaml:35 sites.s1.lines.L1.assets.p3.bindings.temp.connector: unknown connector 'opc'",
    ]
    for start in expected:
        assert any(p.startswith(start) for p in problems), f"missing: {start}\n" + "\n".join(
            problems
        )


def test_a_bad_expression_is_reported_once_however_many_instances_use_the_type() -> None:
    problems = _problems(BROKEN)
    assert sum("__import__" in p for p in problems) == 1


def test_derived_cycle_is_reported() -> None:
    text = textwrap.dedent("""\
        plantwin: 1
        name: cycle
        sites:
          s:
            signals:
              a: {unit: kW, expr: b}
              b: {unit: kW, expr: a}
        """)
    problems = _problems(text)
    assert any("cycle: s/a -> s/b -> s/a" in p or "cycle: s/b -> s/a -> s/b" in p for p in problems)


def test_duplicate_address_and_unknown_binding_target() -> None:
    text = textwrap.dedent("""\
        plantwin: 1
        name: dup
        connectors: {c: {kind: mqtt}}
        sites:
          s:
            signals:
              a: {unit: bar}
              b: {unit: bar}
            bindings:
              a: {connector: c, address: t/1}
              b: {connector: c, address: t/1}
              z: {connector: c, address: t/2}
        """)
    problems = _problems(text)
    assert any(
        p.startswith("dup.yaml") is False
        and ":11 sites.s.bindings.b.address" in p
        and "already feeds s/a" in p
        for p in problems
    ), problems
    assert any(":12 sites.s.bindings.z: binding names unknown signal 'z'" in p for p in problems)


def test_typo_in_key_gets_a_suggestion_and_missing_unit_is_named() -> None:
    text = textwrap.dedent("""\
        plantwin: 1
        name: typo
        types:
          t:
            signals:
              x: {unti: kW}
        sites: {s: {}}
        """)
    problems = _problems(text)
    assert any(
        ":6 types.t.signals.x.unti: unknown key 'unti'; did you mean 'unit'?" in p for p in problems
    )
    assert any(":6 types.t.signals.x: missing required key 'unit'" in p for p in problems)


def test_yaml_syntax_error_points_at_its_line() -> None:
    problems = _problems("plantwin: 1\nname: x\nsites:\n  s: {a: [1, 2}\n")
    assert len(problems) == 1
    assert problems[0].startswith("broken.yaml:4 (file): YAML syntax error")


def test_not_a_mapping_and_wrong_version() -> None:
    assert _problems("- a\n- b\n")[0].endswith(
        "a plant file is a YAML mapping with keys plantwin, name, types and sites"
    )
    problems = _problems("plantwin: 2\nname: x\nsites: {s: {}}\n")
    assert problems[0].startswith("broken.yaml:1 plantwin: Input should be 1")


def test_type_that_contains_itself_is_rejected() -> None:
    text = textwrap.dedent("""\
        plantwin: 1
        name: loop
        types:
          part:
            kind: component
            components:
              inner: {type: part}
          machine:
            components:
              p: {type: part}
        sites:
          s:
            assets:
              m: {type: machine}
        """)
    problems = _problems(text)
    assert any(
        "types.part.components.inner.type: type 'part' contains itself" in p for p in problems
    )


def test_temperature_differences_scales_and_empty_plants() -> None:
    text = textwrap.dedent("""\
        plantwin: 1
        name: temps
        connectors: {c: {kind: mqtt}}
        sites:
          s:
            properties: {ambient: 20 degC}
            signals:
              a: {unit: degC}
              rise: {unit: K, expr: a - ambient}
              wrong: {unit: degC, expr: a - ambient}
              f: {unit: K}
            bindings:
              a: {connector: c, address: x, unit: delta_degC}
              f: {connector: c, address: y, scale: 0}
        """)
    problems = _problems(text)
    assert any(
        ":10 sites.s.signals.wrong.expr: expression gives Δ°C: unit 'Δ°C' cannot be" in p
        for p in problems
    )
    assert any(
        ":13 sites.s.bindings.a.unit: " in p and "use K or delta_degC" in p for p in problems
    )
    assert any(":14 sites.s.bindings.f.scale: scale must not be 0" in p for p in problems)
    assert not any("rise" in p for p in problems)  # degC - degC in K is right
    assert _problems("plantwin: 1\nname: x\nsites: {}\n") == [
        "broken.yaml:3 sites: a plant has at least one site under 'sites'"
    ]
    nan = _problems(
        "plantwin: 1\nname: x\nsites: {s: {signals: {a: {unit: bar, range: [0, .nan]}}}}\n"
    )
    assert any("finite number" in p for p in nan)


def test_command_bindings_write_the_inverse_of_what_signals_read() -> None:
    text = textwrap.dedent("""\
        plantwin: 1
        name: cmd
        connectors: {c: {kind: opcua}}
        types:
          heater:
            states: {values: {idle: 0, running: 1}}
            signals:
              setpoint: {unit: degC}
            commands:
              set_temp:
                params: {temp: {type: float, unit: degC, min: 0, max: 90}}
                binding: {connector: c, address: "{asset}/sp_x10", scale: 0.1, unit: degC}
            bindings:
              setpoint: {connector: c, address: "{asset}/sp_x10_read", scale: 0.1, unit: degC}
        sites:
          s:
            assets:
              h1: {type: heater}
        """)
    plant = parse_plant(text, "cmd.yaml")
    by_signal = {b.signal: b for b in plant.bindings}
    read = by_signal["s.h1/setpoint"]
    write = by_signal["s.h1#set_temp"]
    register = write.a * 65.5 + write.b  # what is written for 65.5 degC
    assert register == pytest.approx(655.0)
    assert read.a * register + read.b == pytest.approx(65.5)  # and reads back the same

"""Rules and window signals in the plant file: what they resolve to, and every mistake reported."""

from __future__ import annotations

import textwrap

import pytest

from plantwin.model.loader import parse_plant
from plantwin.model.plant import Plant
from plantwin.model.problems import PlantFileError
from plantwin.model.schema import Priority, RuleKind, WindowFn

S = 1_000_000_000

HEAD = """\
plantwin: 1
name: rules
types:
  pump:
    states: {signal: state, values: {idle: 0, running: 1, down: 3, maintenance: 4}}
    signals:
      temp: {unit: degC, range: [0, 100]}
      flow: {unit: m**3/h, range: [0, 50]}
      flow_model: {unit: m**3/h}
      power: {unit: kW}
{signals}    components:
      motor: {type: motor}
"""
MOTOR = """\
  motor:
    kind: component
    signals:
      vibration: {unit: mm/s, range: [0, 20]}
"""


def _block(text: str, indent: int) -> str:
    return textwrap.indent(textwrap.dedent(text), " " * indent)


def _plant(
    type_rules: str = "", asset_extra: str = "", motor_rules: str = "", signals: str = ""
) -> Plant:
    text = HEAD.replace("{signals}", _block(signals, 6)) + _block(type_rules, 4)
    text += MOTOR + _block(motor_rules, 4)
    text += textwrap.dedent(
        """\
        sites:
          s:
            assets:
              p1: {type: pump}
              p2:
                type: pump
        """
    )
    text += _block(asset_extra, 8)
    return parse_plant(text, "rules.yaml")


def _problems(**parts: str) -> list[str]:
    with pytest.raises(PlantFileError) as info:
        _plant(**parts)
    return [p.render("rules.yaml") for p in info.value.problems]


def test_type_rules_reach_every_instance_with_limits_in_signal_units() -> None:
    plant = _plant(
        """\
        rules:
          hot: {kind: threshold, signal: temp, above: 176 degF, deadband: 2 %, on_delay: 30 s}
          heating: {kind: rate, signal: temp, above: 1 K/min, over: 5 min, priority: low}
          no_flow: {kind: stale, signal: flow, after: 2 min}
          down_long: {kind: state, states: [down], longer_than: 10 min, priority: high}
        """
    )
    rules = {r.id: r for r in plant.rules()}
    assert set(rules) == {
        f"s.{p}:{n}" for p in ("p1", "p2") for n in ("hot", "heating", "no_flow", "down_long")
    }
    hot = rules["s.p1:hot"]
    assert hot.kind is RuleKind.THRESHOLD
    assert hot.signal == "s.p1/temp"
    assert hot.above == pytest.approx(80.0)  # 176 degF
    assert hot.deadband == pytest.approx(2.0)  # 2 % of the 0-100 span
    assert hot.on_delay_ns == 30 * S
    heating = rules["s.p2:heating"]
    assert heating.above == pytest.approx(1 / 60)  # degC per second
    assert heating.over_ns == 300 * S
    assert heating.priority is Priority.LOW
    assert rules["s.p1:no_flow"].after_ns == 120 * S
    down = rules["s.p1:down_long"]
    assert (down.states, down.on_delay_ns, down.state_twin) == (("down",), 600 * S, "s.p1")


def test_differences_in_offset_units_are_changes_not_temperatures() -> None:
    plant = _plant(
        """\
        rules:
          hot: {kind: threshold, signal: temp, above: 80, deadband: 1 degC}
          warm: {kind: threshold, signal: temp, above: 70, deadband: 1.8 delta_degF}
          off: {kind: deviation, signal: temp, reference: temp_ref, above: 2 degC}
          fast: {kind: rate, signal: temp, above: 1 K/min}
        """,
        signals="temp_ref: {unit: degF}\n",
    )
    rules = {r.name: r for r in plant.rules() if r.twin == "s.p1"}
    assert rules["hot"].deadband == pytest.approx(1.0)
    assert rules["warm"].deadband == pytest.approx(1.0)
    assert rules["off"].above == pytest.approx(2.0)
    assert rules["fast"].above == pytest.approx(1 / 60)


def test_component_rules_suppress_by_the_machine_state() -> None:
    plant = _plant(
        motor_rules="""\
        rules:
          shaking:
            kind: threshold
            signal: vibration
            above: 4.5
            suppress_in: [maintenance]
        """
    )
    rule = next(r for r in plant.rules() if r.id == "s.p1.motor:shaking")
    assert rule.state_twin == "s.p1"  # the motor has no states: its machine's count
    assert rule.suppress_in == ("maintenance",)


def test_instance_overrides_and_disables_type_rules() -> None:
    plant = _plant(
        """\
        rules:
          hot: {kind: threshold, signal: temp, above: 80}
          cold: {kind: threshold, signal: temp, below: 5}
        """,
        asset_extra="""\
        rules:
          hot: {kind: threshold, signal: temp, above: 90, priority: high}
          cold: {kind: threshold, signal: temp, below: 5, enabled: false}
        """,
    )
    rules = {r.id: r for r in plant.rules()}
    assert rules["s.p1:hot"].above == 80
    assert rules["s.p2:hot"].above == 90
    assert rules["s.p2:hot"].priority is Priority.HIGH
    assert "s.p1:cold" in rules
    assert "s.p2:cold" not in rules


def test_range_deviation_and_expression_rules() -> None:
    plant = _plant(
        """\
        rules:
          temp_range: {kind: range, signal: temp, deadband: 1 K}
          flow_off: {kind: deviation, signal: flow, reference: flow_model, above: 20 %, below: -20 %, alarm: false}
          flow_gap: {kind: deviation, signal: flow, reference: flow_model, above: 0.5 m**3/min}
          running: {kind: state, states: [running], alarm: false}
          bad_flow: {kind: expression, when: running and flow_off and not motor.shaking}
        """,
        motor_rules="""\
        rules:
          shaking: {kind: threshold, signal: vibration, above: 4.5}
        """,
    )
    rules = {r.id: r for r in plant.rules()}
    assert (rules["s.p1:temp_range"].below, rules["s.p1:temp_range"].above) == (0, 100)
    assert rules["s.p1:temp_range"].deadband == 1.0
    off = rules["s.p1:flow_off"]
    assert (off.relative, off.above, off.below, off.reference) == (True, 20, -20, "s.p1/flow_model")
    assert rules["s.p1:flow_gap"].above == pytest.approx(30.0)  # m3/min -> m3/h
    assert not rules["s.p1:flow_gap"].relative
    bad = rules["s.p1:bad_flow"]
    assert dict(bad.inputs) == {
        "running": "s.p1:running",
        "flow_off": "s.p1:flow_off",
        "motor.shaking": "s.p1.motor:shaking",
    }


def test_rule_mistakes_are_all_reported_with_line_and_path() -> None:
    problems = _problems(
        type_rules="""\
        rules:
          a: {kind: threshold, signal: temprature, above: 80}
          b: {kind: threshold, signal: temp, above: 80 kg}
          c: {kind: threshold, signal: temp}
          d: {kind: stale, signal: temp, above: 3}
          e: {kind: threshold, signal: temp, above: 10, below: 20}
          f: {kind: state, states: [broken]}
          g: {kind: expression, when: a and nothing}
          h: {kind: threshold, signal: temp, above: 1, message: "{value} {colour}"}
          i: {kind: threshold, signal: temp, above: 1, on_delay: 5 kg}
          j: {kind: stale, signal: temp}
          k: {kind: expression, when: l}
          l: {kind: expression, when: k}
        """
    )
    expected = [
        "rules.yaml:14 types.pump.rules.a.signal: unknown signal 'temprature' (signals of this twin: flow, flow_model, power, state, temp)",
        "rules.yaml:15 types.pump.rules.b.above: unit 'kg' ([mass]) cannot be converted to '°C' ([temperature])",
        "rules.yaml:16 types.pump.rules.c: a threshold rule needs 'above' or 'below'",
        "rules.yaml:17 types.pump.rules.d: a stale rule needs 'after', a duration longer than 0 s",
        "rules.yaml:17 types.pump.rules.d.above: 'above' does not apply to a stale rule",
        "rules.yaml:18 types.pump.rules.e: 'below' (20) must be less than 'above' (10)",
        "rules.yaml:19 types.pump.rules.f.states: unknown state 'broken' (down, idle, maintenance, running)",
        "rules.yaml:20 types.pump.rules.g.when: unknown rule 'nothing' (name rules of this twin or 'component.rule')",
        "rules.yaml:21 types.pump.rules.h.message: unknown placeholder '{colour}' (use {twin}, {name}, {rule}, {value}, {limit}, {unit}, {signal})",
        "rules.yaml:22 types.pump.rules.i.on_delay: '5 kg' is not a duration (write e.g. '30 s' or '10 min')",
        "rules.yaml:23 types.pump.rules.j: a stale rule needs 'after', a duration longer than 0 s",
        "rules.yaml:24 types.pump.rules.k.when: rule 'k' depends on itself through 'when'",
        "rules.yaml:25 types.pump.rules.l.when: rule 'l' depends on itself through 'when'",
    ]
    assert problems == expected  # 'a' is broken: g's use of it is not reported again


def test_window_signals_resolve_and_their_mistakes_are_reported() -> None:
    plant = _plant(
        signals="""\
        temp_10m: {unit: degC, window: {signal: temp, fn: mean, width: 10 min, every: 1 min}}
        temp_rms: {unit: degC, window: {signal: temp, fn: rms, width: 60}}
        samples: {unit: dimensionless, window: {signal: temp, fn: count, width: 1 min}}
        """
    )
    window = plant.signals["s.p1/temp_10m"].window
    assert window is not None
    assert (window.source, window.fn, window.width_ns, window.every_ns) == (
        "s.p1/temp",
        WindowFn.MEAN,
        600 * S,
        60 * S,
    )
    rms = plant.signals["s.p2/temp_rms"].window
    assert rms is not None
    assert rms.every_ns == rms.width_ns == 60 * S  # tumbling by default
    assert all(b.signal != "s.p1/temp_10m" for b in plant.bindings)

    problems = "\n".join(
        _problems(
            signals="""\
            w1: {unit: degC, window: {signal: nope, fn: mean, width: 1 min}}
            w2: {unit: kW, window: {signal: temp, fn: mean, width: 1 min}}
            w3: {unit: degC, window: {signal: temp, fn: max, width: 10 min, every: 3 min}}
            w5: {unit: degC, window: {signal: w3, fn: mean, width: 30 min}}
            w6: {unit: degC, window: {signal: temp, fn: mean, width: 1 d, every: 1 s}}
            """
        )
    )
    assert "w1.window.signal: unknown signal 'nope'" in problems
    assert "w2.unit: a window mean signal has the source's unit '°C'" in problems
    assert "w3.window.every: the period must divide the window width" in problems
    assert "w5.window.signal: a window cannot aggregate another window signal" in problems
    assert "w6.window.every: a window holds at most 1440 periods" in problems
    bad_fn, *_ = _problems(
        signals="w4: {unit: degC, window: {signal: temp, fn: median, width: 60}}\n"
    )
    assert bad_fn.startswith("rules.yaml:11 types.pump.signals.w4.window.fn: Input should be")


def test_demo_plant_rules_load(example_plant: Plant) -> None:
    rules = {r.id: r for r in example_plant.rules()}
    high = rules["changwon.L1.mill1.spindle:vibration_high"]
    assert (high.above, high.priority) == (4.5, Priority.HIGH)
    assert high.deadband == pytest.approx(0.4)
    assert rules["changwon.compressor1:inefficient"].inputs == {
        "loaded": "changwon.compressor1:loaded",
        "specific_power_high": "changwon.compressor1:specific_power_high",
    }


def test_webhook_urls_are_checked() -> None:
    text = (
        HEAD.replace("{signals}", "")
        + MOTOR
        + """\
notifications:
  ok: {url: "https://hooks.example.com/plant", min_priority: high}
  bad: {url: "http://[::1"}
  ftp: {url: "ftp://example.com/x"}
sites:
  s:
    assets:
      p1: {type: pump}
"""
    )
    with pytest.raises(PlantFileError) as info:
        parse_plant(text, "rules.yaml")
    shown = [p.render("rules.yaml") for p in info.value.problems]
    assert len(shown) == 2
    assert shown[0] == "rules.yaml:19 notifications.bad.url: not a URL: Invalid IPv6 URL"
    assert "notifications.ftp.url: 'ftp://example.com/x' is not an http(s) URL" in shown[1]


def test_deadbands_must_be_in_the_limits_terms() -> None:
    problems = "\n".join(
        _problems(
            type_rules="""\
            rules:
              fast: {kind: rate, signal: temp, above: 1 K/min, deadband: 2 %}
              off: {kind: deviation, signal: flow, reference: flow_model, above: 20 %, deadband: 1}
            """
        )
    )
    assert "rules.fast.deadband: a rate rule's deadband is a rate, e.g. '0.1 K/min'" in problems
    assert (
        "rules.off.deadband: limits in percent of the reference take a deadband in percent"
        in problems
    )

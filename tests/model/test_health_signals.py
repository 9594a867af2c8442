"""Health signals in the plant file: resolved detectors and parts, and clear problems."""

from __future__ import annotations

import textwrap

import pytest

from plantwin.model.loader import parse_plant
from plantwin.model.plant import Plant
from plantwin.model.problems import PlantFileError

PLANT = """\
plantwin: 1
name: pumps
connectors: {c: {kind: mqtt}}
types:
  pump:
    signals:
      flow: {unit: m^3/h}
      current: {unit: A}
      health:
        unit: percent
        health: {HEALTH}
      motor_health:
        unit: percent
        health: {PART}
    components:
      motor: {type: motor}
    bindings:
      "*": {connector: c, address: "{asset}/{signal}"}
  motor:
    kind: component
    signals:
      vibration: {unit: mm/s}
    bindings:
      "*": {connector: c, address: "{asset}/{component}/{signal}"}
sites:
  s:
    assets:
      p1: {type: pump}
"""
GOOD = "{signals: [flow, current, motor.vibration], detector: iforest, fit: 2 h, every: 5 s}"
GOOD_PART = "{of: health, signals: [motor.vibration, current]}"


def load(health: str = GOOD, part: str = GOOD_PART) -> Plant:
    text = PLANT.replace("{HEALTH}", health).replace("{PART}", part)
    return parse_plant(text, "pumps.yaml")


def problems(health: str = GOOD, part: str = GOOD_PART) -> list[str]:
    with pytest.raises(PlantFileError) as info:
        load(health, part)
    return [p.render("pumps.yaml") for p in info.value.problems]


def test_a_health_signal_resolves_to_its_detector_and_parts() -> None:
    plant = load()
    health = plant.signals["s.p1/health"].health
    assert health is not None
    assert health.signals == ("s.p1/flow", "s.p1/current", "s.p1.motor/vibration")
    assert (health.detector, health.fit_ns, health.every_ns) == ("iforest", 7200 * 10**9, 5 * 10**9)
    part = plant.signals["s.p1/motor_health"].health
    assert part is not None
    assert part.of == "s.p1/health"
    assert part.signals == ("s.p1.motor/vibration", "s.p1/current")
    bound = {b.signal for b in plant.bindings}
    assert "s.p1/health" not in bound  # computed, never bound by the "*" binding
    assert "s.p1/flow" in bound


def test_defaults_are_pca_fitted_on_8_h_scored_every_10_s() -> None:
    health = load(health="{signals: [flow, current]}", part="{of: health, signals: [flow]}")
    found = health.signals["s.p1/health"].health
    assert found is not None
    assert (found.detector, found.fit_ns, found.every_ns) == ("pca", 8 * 3600 * 10**9, 10**10)


@pytest.mark.parametrize("kind", ["pca-ewma", "mewma", "iforest-ewma"])
def test_the_smoothed_detector_kinds_are_accepted(kind: str) -> None:
    plant = load(
        health=f"{{signals: [flow, current], detector: {kind}}}",
        part="{of: health, signals: [flow]}",
    )
    found = plant.signals["s.p1/health"].health
    assert found is not None
    assert found.detector == kind


@pytest.mark.parametrize(
    ("health", "part", "message"),
    [
        ("{signals: [flow, pressure]}", GOOD_PART, ":11 types.pump.signals.health.health.signals.1: unknown signal 'pressure'"),
        ("{signals: [flow], fit: 30 s}", "{of: health, signals: [flow]}", "the fit period must hold at least 10 scoring periods"),
        (GOOD, "{of: flow, signals: [current]}", "'flow' is not a health signal with a detector of this twin"),
        (GOOD, "{of: health, signals: [current], detector: pca}", "a part of another health signal ('of') takes no detector"),
        ("{signals: [flow, current]}", "{of: health, signals: [motor.vibration]}", "not among the signals of 'health': motor.vibration"),
        ("{signals: [flow, flow]}", "{of: health, signals: [flow]}", "'flow' is listed twice"),
        ("{signals: [flow], detector: svm}", "{of: health, signals: [flow]}", "health.detector"),
        ("{signals: [flow], healthy_when: {signal: current, below: 3 A}}", GOOD_PART.replace("motor.vibration, current", "flow"), ":11 types.pump.signals.health.health.healthy_when.signal: 'current' is not among the health signal's signals: flow"),
        ("{signals: [flow], healthy_when: {signal: flow, below: 3 A}}", "{of: health, signals: [flow]}", "healthy_when.below: unit 'A' ([current]) cannot be converted to 'm³/h"),
        ("{signals: [flow], healthy_when: {signal: flow}}", "{of: health, signals: [flow]}", "give 'below', 'above' or both"),
        ("{signals: [flow], healthy_when: {signal: flow, above: 5, below: 2}}", "{of: health, signals: [flow]}", "'above' must be less than 'below'"),
        ("{signals: [flow], healthy_when: {signal: flow, under: 2}}", "{of: health, signals: [flow]}", "healthy_when.under"),
        (GOOD, "{of: health, signals: [current], healthy_when: {signal: current, below: 2 A}}", "takes no detector, fit, every or healthy_when"),
    ],
)  # fmt: skip
def test_bad_health_declarations_are_named(health: str, part: str, message: str) -> None:
    found = problems(health, part)
    assert any(message in p for p in found), found


def test_healthy_when_is_a_column_and_limits_in_the_signal_unit() -> None:
    plant = load(
        health="{signals: [flow, motor.vibration], healthy_when: "
        "{signal: motor.vibration, above: 100 um/s, below: 0.5 cm/s}}",
        part="{of: health, signals: [flow]}",
    )
    found = plant.signals["s.p1/health"].health
    assert found is not None
    assert found.healthy is not None
    column, low, high = found.healthy
    assert column == 1
    assert low == pytest.approx(0.1)  # mm/s
    assert high == pytest.approx(5.0)
    assert load().signals["s.p1/health"].health.healthy is None  # type: ignore[union-attr]


def test_a_health_signal_must_be_in_percent() -> None:
    text = textwrap.dedent(PLANT).replace(
        "unit: percent\n        health: {HEALTH}", "unit: A\n        health: {HEALTH}"
    )
    with pytest.raises(PlantFileError) as info:
        parse_plant(text.replace("{HEALTH}", GOOD).replace("{PART}", GOOD_PART), "pumps.yaml")
    assert any(
        "a health signal's unit is percent" in p.render("pumps.yaml") for p in info.value.problems
    )

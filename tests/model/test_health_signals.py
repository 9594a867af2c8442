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
    ],
)  # fmt: skip
def test_bad_health_declarations_are_named(health: str, part: str, message: str) -> None:
    found = problems(health, part)
    assert any(message in p for p in found), found


def test_a_health_signal_must_be_in_percent() -> None:
    text = textwrap.dedent(PLANT).replace(
        "unit: percent\n        health: {HEALTH}", "unit: A\n        health: {HEALTH}"
    )
    with pytest.raises(PlantFileError) as info:
        parse_plant(text.replace("{HEALTH}", GOOD).replace("{PART}", GOOD_PART), "pumps.yaml")
    assert any(
        "a health signal's unit is percent" in p.render("pumps.yaml") for p in info.value.problems
    )

"""RUL signals in the plant file: resolved definitions and problems with file:line."""

from __future__ import annotations

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
      speed: {unit: rpm}
      vibration: {unit: mm/s, rate: 2 Hz}
      rul:
        unit: h
        rul: {RUL}
      rul_low: {unit: h}
      rul_high: {unit: LOWUNIT}
      rul_model: {unit: dimensionless}
    bindings:
      "*": {connector: c, address: "{asset}/{signal}"}
sites:
  s:
    assets:
      p1: {type: pump}
"""
GOOD = (
    "{model: pump-rul, signal: vibration, running: speed, failure: 7.1, every: 2 min, "
    "low: rul_low, high: rul_high, version: rul_model}"
)


def load(rul: str = GOOD, high_unit: str = "h") -> Plant:
    return parse_plant(PLANT.replace("{RUL}", rul).replace("LOWUNIT", high_unit), "pumps.yaml")


def problems(rul: str = GOOD, high_unit: str = "h") -> list[str]:
    with pytest.raises(PlantFileError) as info:
        load(rul, high_unit)
    return [p.render("pumps.yaml") for p in info.value.problems]


def test_a_rul_signal_resolves_and_its_outputs_are_computed_not_bound() -> None:
    plant = load()
    rul = plant.signals["s.p1/rul"].rul
    assert rul is not None
    assert (rul.model, rul.signal, rul.running) == ("pump-rul", "s.p1/vibration", "s.p1/speed")
    assert (rul.failure, rul.every_ns) == (7.1, 120 * 10**9)
    assert rul.outputs == ("s.p1/rul_low", "s.p1/rul_high", "s.p1/rul_model")
    bound = {b.signal for b in plant.bindings}
    assert bound.isdisjoint({"s.p1/rul", *rul.outputs})
    assert "s.p1/vibration" in bound


@pytest.mark.parametrize(
    ("rul", "high_unit", "expected"),
    [
        (GOOD.replace("vibration", "vib"), "h", "pumps.yaml:11 types.pump.signals.rul.rul.signal: unknown signal 'vib'"),
        (GOOD.replace("pump-rul", "Pump RUL"), "h", "rul.rul.model: model name 'Pump RUL' is not allowed"),
        (GOOD.replace("rul_low", "nothing"), "h", "rul.rul.low: 'nothing' is not another declared signal"),
        (GOOD, "mm", "rul.rul.high: 'rul_high' holds hours"),
        (GOOD.replace("7.1", "-1"), "h", "rul.rul.failure: the failure level must be a positive number"),
        (GOOD.replace("2 min", "soon"), "h", "rul.rul"),
    ],
)  # fmt: skip
def test_bad_rul_declarations_are_reported_where_they_are(
    rul: str, high_unit: str, expected: str
) -> None:
    found = problems(rul, high_unit)
    assert any(expected in p for p in found), found


def test_an_output_computed_another_way_is_a_problem() -> None:
    """An interval or version signal that is also an expression would have two writers."""
    text = PLANT.replace("{RUL}", GOOD).replace("LOWUNIT", "h")
    text = text.replace(
        "rul_low: {unit: h}", "rul_low: {unit: h, expr: hours}\n      hours: {unit: h}"
    )
    with pytest.raises(PlantFileError) as info:
        parse_plant(text, "pumps.yaml")
    found = [p.render("pumps.yaml") for p in info.value.problems]
    assert any("rul.rul.low: 'rul_low' is computed already" in p for p in found), found


def test_a_rul_signal_that_is_a_prediction_version_is_a_problem() -> None:
    text = PLANT.replace("{RUL}", GOOD).replace("LOWUNIT", "h")
    text = text.replace(
        "      rul_model: {unit: dimensionless}",
        "      rul_model: {unit: dimensionless}\n"
        "      risk: {unit: percent, predict: {model: r, signals: [speed], version: rul}}",
    )
    with pytest.raises(PlantFileError) as info:
        parse_plant(text, "pumps.yaml")
    found = [p.render("pumps.yaml") for p in info.value.problems]
    assert any("rul.rul: the signal is computed already" in p for p in found), found

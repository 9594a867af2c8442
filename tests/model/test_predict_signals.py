"""Prediction signals in the plant file: resolved model and features, and clear problems."""

from __future__ import annotations

import pytest

from plantwin.model.loader import parse_plant
from plantwin.model.plant import Plant
from plantwin.model.problems import PlantFileError

PLANT = """\
plantwin: 1
name: cells
connectors: {c: {kind: mqtt}}
types:
  cnc:
    signals:
      wear: {unit: mm}
      load: {unit: kW}
      scrap: {unit: UNIT, predict: PREDICT}
    bindings:
      "*": {connector: c, address: "{asset}/{signal}"}
sites:
  s:
    assets:
      m1: {type: cnc}
"""
GOOD = "{model: scrap_probability, signals: [wear, load], every: 5 s}"


def load(predict: str = GOOD, unit: str = "percent") -> Plant:
    return parse_plant(PLANT.replace("PREDICT", predict).replace("UNIT", unit), "cells.yaml")


def problems(predict: str = GOOD, unit: str = "percent") -> list[str]:
    with pytest.raises(PlantFileError) as info:
        load(predict, unit)
    return [p.render("cells.yaml") for p in info.value.problems]


def test_a_prediction_signal_resolves_to_its_model_and_features() -> None:
    plant = load()
    predict = plant.signals["s.m1/scrap"].predict
    assert predict is not None
    assert predict.model == "scrap_probability"
    assert predict.signals == ("s.m1/wear", "s.m1/load")
    assert predict.every_ns == 5 * 10**9
    assert "s.m1/scrap" not in {b.signal for b in plant.bindings}  # computed, never bound


@pytest.mark.parametrize(
    ("predict", "unit", "expected"),
    [
        ("{model: scrap, signals: [wear, torque]}", "percent", "unknown signal 'torque'"),
        ("{model: scrap, signals: [wear, wear]}", "percent", "listed twice"),
        ("{model: scrap, signals: []}", "percent", "list at least one signal"),
        ("{model: Scrap!, signals: [wear]}", "percent", "model name 'Scrap!' is not allowed"),
        ("{model: scrap, signals: [wear], every: 5 parsecs}", "percent", "every"),
        ("{model: scrap, signals: [wear]}", "mm", "unit is percent"),
        ("{model: scrap, signals: [wear], version: nope}", "percent", "'nope' is not another"),
        ("{model: scrap, signals: [wear], version: wear}", "percent", "'wear' is not another"),
    ],
)
def test_bad_predictions_are_reported_with_file_and_line(
    predict: str, unit: str, expected: str
) -> None:
    found = problems(predict, unit)
    assert len(found) == 1
    assert found[0].startswith("cells.yaml:9")
    assert expected in found[0]


def test_the_version_signal_is_computed_by_the_twin() -> None:
    text = PLANT.replace("PREDICT", "{model: s, signals: [wear], version: made_by}")
    text = text.replace("UNIT", "percent").replace(
        "      load: {unit: kW}", "      load: {unit: kW}\n      made_by: {unit: dimensionless}"
    )
    plant = parse_plant(text, "cells.yaml")
    predict = plant.signals["s.m1/scrap"].predict
    assert predict is not None
    assert predict.version == "s.m1/made_by"
    assert "s.m1/made_by" not in {b.signal for b in plant.bindings}  # computed, never bound


def test_the_demo_plant_declares_the_scrap_probability_of_line_l1() -> None:
    from plantwin.model.loader import load_plant  # noqa: PLC0415
    from tests.conftest import ROOT  # noqa: PLC0415

    plant = load_plant(ROOT / "examples" / "machining-line.yaml")
    predict = plant.signals["changwon.L1/scrap_probability"].predict
    assert predict is not None
    assert predict.signals[0] == "changwon.L1.mill1.tool/wear"
    assert any(r.id == "changwon.L1:scrap_likely" for r in plant.rules())


def test_a_version_signal_computed_another_way_is_a_problem() -> None:
    """The twin would write it twice per batch (and the health samples are merged into the
    derived ones without a sort, on the promise that no signal is computed two ways)."""
    text = PLANT.replace("PREDICT", "{model: s, signals: [wear], version: made_by}")
    text = text.replace("UNIT", "percent").replace(
        "      load: {unit: kW}", "      load: {unit: kW}\n      made_by: {unit: kW, expr: load}"
    )
    with pytest.raises(PlantFileError) as info:
        parse_plant(text, "cells.yaml")
    found = [p.render("cells.yaml") for p in info.value.problems]
    assert len(found) == 1
    assert "'made_by' is computed already" in found[0]

"""The plant file's fmus section: bindings checked against the FMU's description at load."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from plantwin.model.loader import load_plant, parse_plant
from plantwin.model.problems import PlantFileError
from tests.fmu_support import THERMAL_SOURCE, oven_plant, plant_text, rewrite_description


def _problems(text: str) -> list[str]:
    with pytest.raises(PlantFileError) as caught:
        parse_plant(text, "oven.yaml")
    return [p.render("oven.yaml") for p in caught.value.problems]


def test_bindings_resolve_with_unit_conversions(thermal_fmu: Path) -> None:
    plant = oven_plant(thermal_fmu)
    fmu = plant.fmus["thermal"]
    assert fmu.fmi_version == "2.0"
    assert fmu.model_identifier == "thermal"
    assert fmu.step_ns == 1_000_000_000
    power, hall = fmu.inputs
    assert (power.variable, power.signal, power.a, power.b) == ("P", "plant.oven/power", 0.001, 0)
    assert (hall.variable, hall.a, hall.b) == ("T_amb", 1.0, 0.0)
    assert {p.variable: p.value for p in fmu.parameters} == pytest.approx({"tau": 120, "k": 0.5})
    assert [(p.variable, p.signal) for p in fmu.initial] == [("T_start", "plant.oven/temp")]
    (residual,) = fmu.residuals
    assert (residual.measured, residual.model) == ("plant.oven/temp", "plant.oven/temp_model")
    # Outputs and residuals are signals of the twin: stored, shown, used by rules.
    assert plant.signals["plant.oven/temp_model"].unit == "degC"
    assert plant.signals["plant.oven/temp_residual"].unit == "delta_degree_Celsius"
    assert "plant.oven/temp_residual" in plant.twins["plant.oven"].signals
    (rule,) = plant.twins["plant.oven"].rules
    assert rule.signal == "plant.oven/temp_residual"
    assert rule.above == pytest.approx(2.0)


def test_output_in_kelvin_converts_with_offset(thermal_fmu: Path) -> None:
    fmu = oven_plant(thermal_fmu, unit="K").fmus["thermal"]
    (out,) = fmu.outputs
    assert (out.a, out.b) == pytest.approx((1.0, 273.15))
    (residual,) = fmu.residuals  # measured degC into the model's K: the offset again
    assert (residual.a, residual.b, residual.scale) == pytest.approx((1.0, 273.15, 1.0))


def test_relative_path_starts_at_the_plant_file(thermal_fmu: Path, tmp_path: Path) -> None:
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "thermal.fmu").write_bytes(thermal_fmu.read_bytes())
    path = tmp_path / "oven.yaml"
    path.write_text(plant_text(Path("models/thermal.fmu")))
    plant = load_plant(path)
    assert plant.fmus["thermal"].path == str((tmp_path / "models" / "thermal.fmu").resolve())


def test_wrong_names_and_causality_are_reported_with_lines(thermal_fmu: Path) -> None:
    text = (
        plant_text(thermal_fmu)
        .replace("      P: power\n", "      Power: power\n      T: hall\n")
        .replace("tau: 2 min", "tau: 2 kg")
        .replace("T_start: temp", "T_start: tmp")
        .replace("{measured: temp, model: temp_model}", "{measured: temp, model: temp}")
    )
    problems = _problems(text)
    assert problems == [
        "oven.yaml:23 fmus.thermal.inputs.Power: thermal has no variable 'Power' (P, T_amb)",
        "oven.yaml:24 fmus.thermal.inputs.T: FMU variable 'T' has causality 'output', not 'input'",
        "oven.yaml:29 fmus.thermal.parameters.tau: unit 'kg' ([mass]) cannot be converted "
        "to 's' ([time])",
        "oven.yaml:32 fmus.thermal.initial.T_start: unknown signal 'tmp' of twin 'plant.oven'",
        "oven.yaml:34 fmus.thermal.residuals.temp_residual.model: 'temp' is not an output "
        "signal of this FMU (temp_model)",
    ]


def test_units_that_do_not_convert_are_reported(thermal_fmu: Path) -> None:
    text = plant_text(thermal_fmu).replace("power: {unit: W}", "power: {unit: bar}")
    (problem,) = _problems(text)
    assert problem.startswith("oven.yaml:23 fmus.thermal.inputs.P: unit 'bar'")
    assert "cannot be converted to 'kW'" in problem


def test_missing_file_unknown_twin_and_bad_step(thermal_fmu: Path) -> None:
    text = plant_text(thermal_fmu.parent / "nope.fmu").replace(
        "twin: plant.oven", "twin: plant.ovn"
    )
    assert _problems(text) == [
        # The rule is on plant.oven, where no FMU makes its signal now.
        "oven.yaml:14 sites.plant.assets.oven.rules.mismatch.signal: unknown signal "
        "'temp_residual' (signals of this twin: hall, power, temp)",
        "oven.yaml:19 fmus.thermal.twin: unknown twin 'plant.ovn' (did you mean 'plant.oven'?)",
        f"oven.yaml:20 fmus.thermal.file: no FMU at {thermal_fmu.parent / 'nope.fmu'}",
    ]
    (step,) = _problems(plant_text(thermal_fmu, step="0 s"))
    assert step == "oven.yaml:21 fmus.thermal.step: the communication step must be longer than 0 s"


def test_output_signal_may_not_shadow_a_signal(thermal_fmu: Path) -> None:
    text = plant_text(thermal_fmu).replace("signal: temp_model", "signal: temp")
    assert _problems(text) == [
        "oven.yaml:26 fmus.thermal.outputs.T: twin 'plant.oven' already has a signal 'temp'",
        # The residual still names temp_model, which no output makes now.
        "oven.yaml:33 fmus.thermal.residuals.temp_residual.model: 'temp_model' is not an "
        "output signal of this FMU (none)",
    ]


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            'fmiVersion="2.0"',
            'fmiVersion="1.0"',
            "is an FMI 1.0 FMU; plantwin steps FMI 2.0 and 3.0",
        ),
        (
            '<CoSimulation modelIdentifier="thermal"',
            '<ModelExchange modelIdentifier="thermal"',
            "has no co-simulation interface (a model-exchange FMU)",
        ),
        (
            'causality="input" variability="continuous"\n      description="heating power">'
            '\n      <Real unit="kW" start="0"/>',
            'causality="input" variability="discrete"\n      description="heating power">'
            '\n      <Integer start="0"/>',
            "FMU variable 'P' is not a real number",
        ),
    ],
)
def test_fmus_plantwin_cannot_step_are_refused(
    thermal_fmu: Path, tmp_path: Path, old: str, new: str, message: str
) -> None:
    text_old = old.replace("</CoSimulation>", "</ModelExchange>")
    broken = rewrite_description(thermal_fmu, tmp_path / "broken.fmu", text_old, new)
    if "ModelExchange" in new:  # close the renamed element too
        fixed = tmp_path / "me.fmu"
        rewrite_description(broken, fixed, "</CoSimulation>", "</ModelExchange>")
        broken = fixed
    problems = _problems(plant_text(broken))
    assert any(message in p for p in problems), problems
    assert problems[0].startswith("oven.yaml:")


def test_source_fmu_without_binary_says_how_to_build(tmp_path: Path) -> None:
    source = tmp_path / "source.fmu"
    with zipfile.ZipFile(source, "w") as archive:
        for path in THERMAL_SOURCE.rglob("*"):
            if path.is_file():
                archive.write(path, path.relative_to(THERMAL_SOURCE).as_posix())
    (problem,) = _problems(plant_text(source))
    assert "is a source FMU without a binary for this machine" in problem
    assert "python -m plantwin.simulation.fmu.build" in problem


def test_not_a_zip_is_refused(tmp_path: Path) -> None:
    fake = tmp_path / "fake.fmu"
    fake.write_text("not a zip")
    (problem,) = _problems(plant_text(fake))
    assert "fake.fmu is not an FMU (a zip archive)" in problem


def test_binding_a_connector_to_an_fmu_output_is_refused(thermal_fmu: Path) -> None:
    text = (
        plant_text(thermal_fmu)
        .replace(
            "        rules:",
            "        bindings:\n          temp_model: {connector: c, address: x}\n        rules:",
        )
        .replace("sites:", "connectors:\n  c: {kind: http}\nsites:", 1)
    )
    problems = _problems(text)
    assert len(problems) == 1
    assert "temp_model" in problems[0]

"""The thermal FMU of examples/fmu built once per test session, and a plant that uses it."""

from __future__ import annotations

import math
import zipfile
from pathlib import Path

from plantwin.model.loader import parse_plant
from plantwin.model.plant import Plant
from plantwin.simulation.fmu.build import build_fmu

ROOT = Path(__file__).resolve().parent.parent
THERMAL_SOURCE = ROOT / "examples" / "fmu" / "thermal"

# The FMU's parameters in the test plant: T' = (k P - (T - T_amb)) / tau.
K_PER_KW = 0.5  # K/kW
TAU_S = 120.0

PLANT = """\
plantwin: 1
name: oven test
sites:
  plant:
    assets:
      oven:
        signals:
          power: {{unit: W}}
          hall: {{unit: degC}}
          temp: {{unit: degC}}
        rules:
          mismatch:
            kind: threshold
            signal: temp_residual
            above: 2 K
            priority: high
fmus:
  thermal:
    twin: plant.oven
    file: {file}
    step: {step}
    inputs:
      P: power
      T_amb: hall
    outputs:
      T: {{signal: temp_model, unit: {unit}}}
    parameters:
      tau: 2 min
      k: 0.5 K/kW
    initial:
      T_start: temp
    residuals:
      temp_residual: {{measured: temp, model: temp_model}}
"""


def build_thermal(out: Path) -> Path:
    return build_fmu(THERMAL_SOURCE, out)


def plant_text(fmu: Path, *, step: str = "1 s", unit: str = "degC") -> str:
    return PLANT.format(file=fmu, step=step, unit=unit)


def oven_plant(fmu: Path, *, step: str = "1 s", unit: str = "degC") -> Plant:
    return parse_plant(plant_text(fmu, step=step, unit=unit), "oven.yaml")


def analytic(t_s: float, *, t0: float, power_kw: float, ambient: float) -> float:
    """The exact temperature after ``t_s`` seconds at constant power and ambient."""
    steady = ambient + K_PER_KW * power_kw
    return steady + (t0 - steady) * math.exp(-t_s / TAU_S)


def rewrite_description(fmu: Path, out: Path, old: str, new: str) -> Path:
    """A copy of ``fmu`` whose modelDescription.xml has ``old`` replaced by ``new``."""
    with zipfile.ZipFile(fmu) as src, zipfile.ZipFile(out, "w") as dst:
        for item in src.infolist():
            data = src.read(item)
            if item.filename == "modelDescription.xml":
                text = data.decode()
                assert old in text, old
                data = text.replace(old, new).encode()
            dst.writestr(item, data)
    return out

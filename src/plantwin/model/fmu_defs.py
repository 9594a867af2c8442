"""An FMU of the resolved plant: file, variables bound to signals, conversions, residuals.

Conversions are folded into ``value * a + b`` once at load (pint), like bindings: the stream
passes numbers in each signal's unit and the FMU gets them in its variables' units.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True, kw_only=True)
class FmuPort:
    """An FMU variable and a signal: ``fmu = a * signal + b`` for inputs and start values,
    ``signal = a * fmu + b`` for outputs."""

    variable: str
    value_reference: int
    signal: str  # signal key
    a: float = 1.0
    b: float = 0.0


@dataclass(frozen=True, slots=True, kw_only=True)
class FmuParameter:
    variable: str
    value_reference: int
    value: float  # in the variable's unit


@dataclass(frozen=True, slots=True, kw_only=True)
class ResidualDef:
    """``signal = scale * ((a * measured + b) - model)``: the measurement in the model signal's
    unit, minus the model, as a difference in the residual's unit."""

    signal: str  # signal key of the residual
    measured: str  # signal key
    model: str  # signal key of an FMU output
    a: float = 1.0
    b: float = 0.0
    scale: float = 1.0


@dataclass(frozen=True, slots=True, kw_only=True)
class FmuDef:
    name: str
    twin: str
    path: str  # absolute path of the .fmu file
    fmi_version: str  # "2.0" or "3.x"
    model_identifier: str
    token: str  # guid (FMI 2) or instantiationToken (FMI 3)
    step_ns: int  # communication step
    inputs: tuple[FmuPort, ...]
    outputs: tuple[FmuPort, ...]
    parameters: tuple[FmuParameter, ...] = ()
    initial: tuple[FmuPort, ...] = ()  # start values taken from signals when the model starts
    residuals: tuple[ResidualDef, ...] = ()
    description: str = ""

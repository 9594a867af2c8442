"""What a command request must pass before it is sent: parameters, state, interlocks.

Plain functions over the plant model and the twin's latest values, so each check can be
tested on its own; :mod:`plantwin.processing.commands.service` applies them in order.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import date

import numpy as np

from plantwin.core.errors import PlantwinError
from plantwin.core.records import CommandValue
from plantwin.model.catalog import SignalCatalog
from plantwin.model.expressions import evaluate
from plantwin.model.plant import BindingDef, CommandDef, ParamDef
from plantwin.twin import TwinState

_REL_EPSILON = 1e-9  # unit conversions (psi <-> bar) are not exact in binary floating point


class CommandError(PlantwinError):
    """A command request cannot be carried out; subclasses say why (and the API's status)."""


class UnknownCommandError(CommandError):
    """No such twin, command or command id (404)."""


class ParameterError(CommandError):
    """A parameter is missing, unknown, of the wrong type or out of its limits (422)."""


class NotAllowedError(CommandError):
    """The twin's state or an interlock forbids the command now (409)."""


def check_parameters(command: CommandDef, given: Mapping[str, object]) -> dict[str, CommandValue]:
    """The parameters with defaults filled in, or ParameterError naming the first bad one."""
    known = {p.name: p for p in command.params}
    extra = sorted(set(given) - set(known))
    if extra:
        names = ", ".join(known) or "none"
        msg = f"unknown parameter '{extra[0]}' for {command.name} (its parameters: {names})"
        raise ParameterError(msg)
    out: dict[str, CommandValue] = {}
    for param in command.params:
        if param.name in given:
            out[param.name] = _value(command, param, given[param.name])
        elif param.default is not None and not isinstance(param.default, date):
            out[param.name] = _value(command, param, param.default)
        else:
            msg = f"missing parameter '{param.name}' for {command.name}{_describe(param)}"
            raise ParameterError(msg)
    return out


def _describe(param: ParamDef) -> str:
    parts = [param.dtype]
    if param.unit:
        parts.append(f"in {param.unit}")
    if param.low is not None or param.high is not None:
        low = "" if param.low is None else f"{param.low:g}"
        high = "" if param.high is None else f"{param.high:g}"
        parts.append(f"{low}..{high}")
    if param.choices:
        parts.append("one of " + ", ".join(param.choices))
    return " (" + ", ".join(parts) + ")"


def _value(command: CommandDef, param: ParamDef, value: object) -> CommandValue:
    where = f"parameter '{param.name}' of {command.name}"
    if param.dtype == "bool":
        if not isinstance(value, bool):
            raise ParameterError(f"{where} must be true or false, got {value!r}")
        return value
    if param.dtype == "str":
        if not isinstance(value, str):
            raise ParameterError(f"{where} must be text, got {value!r}")
        if param.choices is not None and value not in param.choices:
            choices = ", ".join(param.choices)
            raise ParameterError(f"{where} must be one of {choices}, got {value!r}")
        return value
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ParameterError(f"{where} must be a number ({param.dtype}), got {value!r}")
    if not math.isfinite(value):
        raise ParameterError(f"{where} must be a finite number, got {value!r}")
    if param.dtype == "int":
        if value != int(value):
            raise ParameterError(f"{where} must be a whole number, got {value!r}")
        value = int(value)
    else:
        value = float(value)
    unit = f" {param.unit}" if param.unit else ""
    if param.low is not None and value < param.low:
        raise ParameterError(f"{where} is {value:g}{unit}, below its minimum {param.low:g}{unit}")
    if param.high is not None and value > param.high:
        raise ParameterError(f"{where} is {value:g}{unit}, above its maximum {param.high:g}{unit}")
    return value


def check_state(command: CommandDef, twin: TwinState) -> None:
    """NotAllowedError unless the twin is in one of the command's allowed states."""
    if command.allowed_states is None:
        return
    status = twin.states.status.get(command.twin)
    state = None if status is None or status.state is None else status.state.name
    allowed = ", ".join(command.allowed_states)
    if state is None:
        msg = f"{command.name} needs {command.twin} in {allowed}, but its state is not known yet"
        raise NotAllowedError(msg)
    if state not in command.allowed_states:
        msg = f"{command.name} is allowed only in {allowed}; {command.twin} is {state}"
        raise NotAllowedError(msg)


def check_interlocks(command: CommandDef, twin: TwinState, catalog: SignalCatalog) -> None:
    """NotAllowedError with the interlock's message when one holds on the latest values.

    A signal without any value yet blocks too: a command must not pass a guard only because
    the guard's input has not been read.
    """
    latest = twin.latest
    for lock in command.interlocks:
        assert lock.expression is not None  # set by the loader
        values: dict[str, object] = dict(lock.constants)
        for name, key in lock.inputs.items():
            sid = catalog.id(key)
            if not latest.has(sid):
                msg = f"interlock '{lock.when}' cannot be checked: no value of {key} yet"
                raise NotAllowedError(msg)
            values[name] = np.float64(latest.value[sid])
        if bool(np.asarray(evaluate(lock.expression, values)) != 0):
            raise NotAllowedError(f"interlock '{lock.when}': {lock.message}")


def writes(command: CommandDef, params: Mapping[str, CommandValue]) -> list[tuple[str, float]]:
    """(address, raw value) to write for each parameter, in the binding's source unit.

    The binding's ``a``/``b`` turn the parameter with the unit (the only parameter, or the one
    with a unit) into the raw value; other parameters get only the binding's scale and offset.
    A command without parameters writes 1 (a trigger). Bools write 1/0, text its index in
    ``choices``.
    """
    binding = command.binding
    assert binding is not None
    if not command.params:
        return [(binding.address.replace("{param}", command.name), 1.0)]
    with_unit = [p.name for p in command.params if p.unit]
    converted = with_unit[0] if len(with_unit) == 1 else command.params[0].name
    out: list[tuple[str, float]] = []
    for param in command.params:
        number = _number(param, params[param.name])
        raw = (
            binding.a * number + binding.b
            if param.name == converted
            else (number - binding.offset) / binding.scale
        )
        out.append((binding.address.replace("{param}", param.name), raw))
    return out


def _number(param: ParamDef, value: CommandValue) -> float:
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, str):
        if param.choices is None:
            msg = f"parameter '{param.name}' is text without choices; a connector writes numbers"
            raise ParameterError(msg)
        return float(param.choices.index(value))
    return float(value)


def reported_target(command: CommandDef, params: Mapping[str, CommandValue]) -> float | None:
    """The value the report signal should show, in its unit (None without ``reports``)."""
    if command.reports is None:
        return None
    param = command.params[0]
    return command.reports.a * _number(param, params[param.name]) + command.reports.b


def matches(target: float, reported: float, tolerance: float) -> bool:
    return abs(reported - target) <= tolerance + _REL_EPSILON * max(1.0, abs(target))


def binding_of(command: CommandDef) -> BindingDef:
    if command.binding is None:
        msg = f"{command.name} of {command.twin} has no binding: it cannot be sent to a machine"
        raise NotAllowedError(msg)
    return command.binding

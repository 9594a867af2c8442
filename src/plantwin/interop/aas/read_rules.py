"""Reading a ``Rules`` submodel (see :mod:`plantwin.interop.aas.export_rules`) into rule specs.

Each rule becomes a plant-file ``rules:`` entry on the twin: limits and deadbands as plain
numbers in the signal's unit (percent text for a relative deviation), durations in seconds,
``when`` as its text. Values the plant file would take anyway (a zero delay, priority
medium, alarm on) are left out.
"""

from __future__ import annotations

import json
from decimal import Decimal

from basyx.aas import model

from plantwin.interop.aas.elements import child_value, children, element_name, lang_text
from plantwin.interop.aas.imported import ImportedTwin, Spec
from plantwin.model.schema import Priority, RuleKind

_KINDS = {k.value for k in RuleKind}
_PRIORITIES = [p.value for p in Priority]


def read_rules(sm: model.Submodel, twin: ImportedTwin, at: str, notes: list[str]) -> None:
    for item in children(sm):
        name = element_name(item)
        kind = child_value(item, "Kind")
        if not isinstance(item, model.SubmodelElementCollection) or kind not in _KINDS:
            notes.append(f"{at}: {item.id_short} is not a rule collection with a Kind; left out")
            continue
        twin.rules[name] = _rule(item, RuleKind(str(kind)), f"{at} rule '{name}'", notes)


def _rule(item: model.SubmodelElementCollection, kind: RuleKind, at: str, notes: list[str]) -> Spec:
    spec = _condition(item, kind)
    _behaviour(item, spec, at, notes)
    return spec


def _condition(item: model.SubmodelElementCollection, kind: RuleKind) -> Spec:
    """What the rule watches: signals, limits, windows, states, expression."""
    spec: Spec = {"kind": kind.value}
    description = lang_text(item.description)
    if description:
        spec["description"] = description
    for key, id_short in (("signal", "Signal"), ("reference", "Reference"), ("when", "When")):
        value = child_value(item, id_short)
        if isinstance(value, str):
            spec[key] = value
    relative = child_value(item, "Relative") is True
    for key, id_short in (("above", "Above"), ("below", "Below"), ("deadband", "Deadband")):
        value = _number(child_value(item, id_short))
        if value is None or (key == "deadband" and value == 0.0):
            continue
        spec[key] = f"{_decimal(value)} %" if relative else value
    for key, id_short in (("over", "Over"), ("after", "After")):
        value = _number(child_value(item, id_short))
        if value is not None:
            spec[key] = value
    states = _names(child_value(item, "States"))
    if states is not None:
        spec["states"] = states
    return spec


def _behaviour(
    item: model.SubmodelElementCollection, spec: Spec, at: str, notes: list[str]
) -> None:
    """How the alarm behaves: delays, priority, message, flags, suppression."""
    for key, id_short in (
        ("on_delay", "OnDelay"),
        ("off_delay", "OffDelay"),
        ("realarm", "ReAlarm"),
    ):
        value = _number(child_value(item, id_short))
        if value:
            spec[key] = value
    priority = child_value(item, "Priority")
    if priority is not None and priority not in _PRIORITIES:
        notes.append(f"{at}: priority {priority!r} is not one of {', '.join(_PRIORITIES)}; medium")
    elif priority is not None and priority != Priority.MEDIUM.value:
        spec["priority"] = priority
    message = child_value(item, "Message")
    if isinstance(message, str) and message:
        spec["message"] = message
    if child_value(item, "Alarm") is False:
        spec["alarm"] = False
    if child_value(item, "Latching") is True:
        spec["latching"] = True
    suppress = _names(child_value(item, "SuppressIn"))
    if suppress:
        spec["suppress_in"] = suppress


def _number(value: object) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return None


def _decimal(value: float) -> str:
    """A float as plain decimal digits ('0.00001', not '1e-05'), exact when read back."""
    text = repr(value)
    return format(Decimal(text), "f") if "e" in text else text


def _names(value: object) -> list[str] | None:
    """A JSON list of names (or one name as plain text, as another tool might write it)."""
    if not isinstance(value, str):
        return None
    try:
        parsed = json.loads(value)
    except json.JSONDecodeError:
        return [value]
    if isinstance(parsed, list):
        return [str(x) for x in parsed]
    return [str(parsed)]

"""A twin's rules as a ``Rules`` submodel: one collection per rule, every field of the rule.

Limits and deadbands are written as resolved (plain numbers in the signal's unit, a rate
rule's per second, a relative deviation's in percent), durations in seconds, signals by the
name the plant file uses from the twin (``vibration``, ``spindle.vibration``).
"""

from __future__ import annotations

import json

from basyx.aas import model
from basyx.aas.model import datatypes

from plantwin.interop.aas import vocabulary as v
from plantwin.interop.aas.elements import IdShorts, collection, prop
from plantwin.interop.aas.ids import relative_signal, seconds
from plantwin.model.plant import RuleDef
from plantwin.model.schema import RuleKind

# Kinds whose rules carry limits and a deadband.
LIMIT_KINDS = (RuleKind.THRESHOLD, RuleKind.RANGE, RuleKind.RATE, RuleKind.DEVIATION)


def rule_elements(rules: tuple[RuleDef, ...]) -> list[model.SubmodelElement]:
    names = IdShorts()
    return [_rule(rule, names) for rule in rules]


def _rule(rule: RuleDef, names: IdShorts) -> model.SubmodelElementCollection:
    id_short, quals = names.take(rule.name)
    items: list[model.SubmodelElement] = [prop("Kind", rule.kind.value)]
    if rule.signal is not None:
        items.append(prop("Signal", relative_signal(rule.signal, rule.twin)))
    if rule.reference is not None:
        items.append(prop("Reference", relative_signal(rule.reference, rule.twin)))
    if rule.kind is RuleKind.DEVIATION:
        items.append(prop("Relative", rule.relative, description="limits in percent"))
    if rule.kind in LIMIT_KINDS:
        if rule.above is not None:
            items.append(prop("Above", rule.above, value_type=datatypes.Double))
        if rule.below is not None:
            items.append(prop("Below", rule.below, value_type=datatypes.Double))
        items.append(prop("Deadband", rule.deadband, value_type=datatypes.Double))
        items.append(prop("Unit", rule.unit, description="unit of limits and deadband"))
    if rule.kind is RuleKind.RATE:
        items.append(_seconds("Over", rule.over_ns, "rate window in seconds"))
    if rule.kind is RuleKind.STALE:
        items.append(_seconds("After", rule.after_ns, "stale after, in seconds"))
    if rule.kind is RuleKind.STATE:
        items.append(prop("States", json.dumps(list(rule.states)), description="JSON list"))
    if rule.when is not None:
        items.append(prop("When", rule.when.text))
    items += _alarm_items(rule)
    return collection(
        id_short, items, semantic_id=v.RULE, description=rule.description, qualifiers=quals
    )


def _alarm_items(rule: RuleDef) -> list[model.SubmodelElement]:
    """How the rule's alarm behaves: delays, priority, message, flags, suppression."""
    items: list[model.SubmodelElement] = [
        _seconds("OnDelay", rule.on_delay_ns, "seconds true before it counts"),
        _seconds("OffDelay", rule.off_delay_ns, "seconds false before it clears"),
        prop("Priority", rule.priority.value),
    ]
    if rule.message:
        items.append(prop("Message", rule.message))
    items += [prop("Alarm", rule.alarm), prop("Latching", rule.latching)]
    if rule.realarm_ns:
        items.append(_seconds("ReAlarm", rule.realarm_ns, "acknowledged but active: sounds again"))
    if rule.suppress_in:
        items.append(
            prop("SuppressIn", json.dumps(list(rule.suppress_in)), description="JSON list")
        )
    return items


def _seconds(id_short: str, ns: int, description: str) -> model.Property:
    return prop(id_short, seconds(ns), value_type=datatypes.Double, description=description)

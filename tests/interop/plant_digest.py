"""A resolved plant as plain comparable data, for round-trip tests.

``Plant`` itself does not compare across loads: a derived signal's or an expression rule's
parsed expression holds an ``ast`` tree, which compares by identity, so expressions are
compared by their text. Binding order carries no meaning (it follows the order in which the
loader met the bindings), so bindings are compared sorted. Every field of a rule, a window
and a notification is compared, so a field the round trip drops fails the test.
"""

from __future__ import annotations

from dataclasses import fields

from plantwin.model.plant import Plant, RuleDef, SignalDef, Twin


def _signal(s: SignalDef) -> tuple[object, ...]:
    derived = None
    if s.derived is not None:
        d = s.derived
        derived = (d.expression.text, dict(d.inputs), dict(d.constants), d.scale, d.shift)
    return (
        s.key,
        s.twin,
        s.name,
        s.unit,
        s.symbol,
        s.dtype,
        s.low,
        s.high,
        s.rate_hz,
        s.counter,
        s.description,
        derived,
        s.window,  # a frozen dataclass of plain values: compares field by field
        s.rul,
        s.health,
    )


def _rule(rule: RuleDef) -> dict[str, object]:
    out = {f.name: getattr(rule, f.name) for f in fields(rule)}
    out["when"] = rule.when.text if rule.when is not None else None
    out["inputs"] = dict(rule.inputs)
    return out


def _rules(twin: Twin) -> dict[str, dict[str, object]]:
    # Keyed by rule id: evaluation order follows from the expressions' inputs, not the file.
    return {rule.id: _rule(rule) for rule in twin.rules}


def digest(plant: Plant) -> dict[str, object]:
    return {
        "name": plant.name,
        "description": plant.description,
        "connectors": {
            k: (c.kind, c.description, dict(c.options)) for k, c in plant.connectors.items()
        },
        "timezones": dict(plant.timezones),
        "notifications": dict(plant.notifications),
        "twins": {
            twin_id: (
                t.kind,
                t.name,
                t.type,
                t.parent,
                t.children,
                t.description,
                dict(t.properties),
                t.signals,
                t.states,
                t.commands,
                t.position,
                _rules(t),
            )
            for twin_id, t in plant.twins.items()
        },
        "signals": {key: _signal(s) for key, s in plant.signals.items()},
        "bindings": sorted(plant.bindings, key=lambda b: b.signal),
    }


def differences(a: Plant, b: Plant) -> list[str]:
    """Human-readable differences between two plants (empty when equal)."""
    da, db = digest(a), digest(b)
    out: list[str] = []
    for key in da:
        left, right = da[key], db[key]
        if left == right:
            continue
        if isinstance(left, dict) and isinstance(right, dict):
            for k in sorted(set(left) | set(right), key=str):
                if left.get(k) != right.get(k):
                    out.append(f"{key}[{k}]: {left.get(k)!r} != {right.get(k)!r}")
        elif isinstance(left, list) and isinstance(right, list):
            out += [f"{key}: {x!r} != {y!r}" for x, y in zip(left, right, strict=False) if x != y]
            if len(left) != len(right):
                out.append(f"{key}: {len(left)} != {len(right)} entries")
        else:
            out.append(f"{key}: {left!r} != {right!r}")
    return out

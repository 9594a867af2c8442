"""Merging types and instances into one effective description per twin.

A twin's description comes in layers: its type, then every place that refines it (a
component entry in the parent's type, the twin entry itself). Later layers win. Each layer
keeps the YAML path it came from, so a problem is reported where it was written.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Generic, TypeVar

from plantwin.model.problems import Path, ProblemLog
from plantwin.model.schema import (
    BindingSpec,
    CommandSpec,
    ComponentSpec,
    KpiSpec,
    RuleSpec,
    Scalar,
    SignalSpec,
    StatesSpec,
    TypeSpec,
)

T = TypeVar("T")


@dataclass(slots=True)
class Located(Generic[T]):
    value: T
    path: Path


@dataclass(slots=True)
class Layer:
    path: Path  # where this layer is written
    type_name: str | None = None
    description: str = ""
    display_name: str | None = None
    properties: dict[str, Scalar] = field(default_factory=dict)
    signals: dict[str, SignalSpec] = field(default_factory=dict)
    bindings: dict[str, BindingSpec] = field(default_factory=dict)
    components: dict[str, ComponentSpec] = field(default_factory=dict)
    states: StatesSpec | None = None
    commands: dict[str, CommandSpec] = field(default_factory=dict)
    rules: dict[str, RuleSpec] = field(default_factory=dict)
    kpi: KpiSpec | None = None


@dataclass(slots=True)
class Effective:
    """The merged description of one twin, each entry with the path that defined it."""

    type_name: str | None = None
    description: str = ""
    display_name: str | None = None
    properties: dict[str, Located[Scalar]] = field(default_factory=dict)
    signals: dict[str, Located[SignalSpec]] = field(default_factory=dict)
    bindings: list[tuple[str, Located[BindingSpec], int]] = field(default_factory=list)
    components: dict[str, list[Layer]] = field(default_factory=dict)
    states: Located[StatesSpec] | None = None
    commands: dict[str, Located[CommandSpec]] = field(default_factory=dict)
    rules: dict[str, Located[RuleSpec]] = field(default_factory=dict)
    # KPI settings key by key: a twin's entry refines its type's (e.g. only ideal_cycle_time)
    kpi: dict[str, Located[object]] = field(default_factory=dict)
    kpi_at: Path | None = None  # the most specific `kpi:` entry; None: no KPIs for this twin


def type_layer(name: str, spec: TypeSpec) -> Layer:
    return Layer(
        path=("types", name),
        type_name=name,
        description=spec.description,
        properties=dict(spec.properties),
        signals=dict(spec.signals),
        bindings=dict(spec.bindings),
        components=dict(spec.components),
        states=spec.states,
        commands=dict(spec.commands),
        rules=dict(spec.rules),
        kpi=spec.kpi,
    )


def component_layer(path: Path, spec: ComponentSpec) -> Layer:
    return Layer(
        path=path,
        type_name=spec.type,
        description=spec.description,
        display_name=spec.name,
        properties=dict(spec.properties),
        signals=dict(spec.signals),
        bindings=dict(spec.bindings),
        components=dict(spec.components),
        rules=dict(spec.rules),
        kpi=getattr(spec, "kpi", None),  # assets only
    )


def expand_types(
    layers: list[Layer], types: dict[str, TypeSpec], kind: str, log: ProblemLog
) -> list[Layer]:
    """Put the type of the twin (named by its most specific layer) underneath its layers."""
    named = [layer for layer in layers if layer.type_name is not None]
    if not named:
        return layers
    owner = named[-1]
    type_name = owner.type_name or ""
    spec = types.get(type_name)
    if spec is None:
        known = ", ".join(sorted(types)) or "none defined"
        log.add((*owner.path, "type"), f"unknown type '{type_name}' (types: {known})")
        return layers
    if spec.kind != kind:
        log.add((*owner.path, "type"), f"type '{type_name}' is a {spec.kind}, not a {kind}")
    return [type_layer(type_name, spec), *layers]


def merge(layers: list[Layer]) -> Effective:
    eff = Effective()
    for rank, layer in enumerate(layers):
        if layer.type_name is not None:
            eff.type_name = layer.type_name
        eff.description = layer.description or eff.description
        eff.display_name = layer.display_name or eff.display_name
        for key, value in layer.properties.items():
            eff.properties[key] = Located(value, (*layer.path, "properties", key))
        for key, sig in layer.signals.items():
            eff.signals[key] = Located(sig, (*layer.path, "signals", key))
        for key, binding in layer.bindings.items():
            eff.bindings.append((key, Located(binding, (*layer.path, "bindings", key)), rank))
        for key, comp in layer.components.items():
            eff.components.setdefault(key, []).append(
                component_layer((*layer.path, "components", key), comp)
            )
        if layer.states is not None:
            eff.states = Located(layer.states, (*layer.path, "states"))
        for key, command in layer.commands.items():
            eff.commands[key] = Located(command, (*layer.path, "commands", key))
        for key, rule in layer.rules.items():  # a later layer replaces a rule wholesale
            eff.rules[key] = Located(rule, (*layer.path, "rules", key))
        if layer.kpi is not None:
            for key in layer.kpi.model_fields_set:
                value = getattr(layer.kpi, key)
                eff.kpi[key] = Located(value, (*layer.path, "kpi", key))
            eff.kpi_at = (*layer.path, "kpi")
    return eff

"""What the importer reads from an AAS before it becomes a plant file: a plain twin tree.

Specs are plant-file shaped dicts (``{"unit": "kW", "range": [0, 40]}``), so writing the YAML
is a matter of arranging them; bindings hold addresses as resolved for their twin.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from plantwin.model.plant import PropertyValue, TwinKind

Spec = dict[str, object]


@dataclass(slots=True, kw_only=True)
class ImportedTwin:
    name: str
    kind: TwinKind
    display_name: str | None = None
    description: str = ""
    type_name: str | None = None
    properties: dict[str, PropertyValue] = field(default_factory=dict)
    signals: dict[str, Spec] = field(default_factory=dict)
    states: Spec | None = None
    commands: dict[str, Spec] = field(default_factory=dict)
    command_bindings: dict[str, Spec] = field(default_factory=dict)
    bindings: dict[str, Spec] = field(default_factory=dict)  # by signal name
    rules: dict[str, Spec] = field(default_factory=dict)
    position: list[float] | None = None
    timezone: str | None = None
    children: list[ImportedTwin] = field(default_factory=list)


@dataclass(slots=True, kw_only=True)
class ImportedPlant:
    name: str
    description: str = ""
    connectors: dict[str, Spec] = field(default_factory=dict)
    notifications: dict[str, Spec] = field(default_factory=dict)
    sites: list[ImportedTwin] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

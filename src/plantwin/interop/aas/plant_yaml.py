"""The imported twin tree as a plant file (YAML written with ruamel.yaml).

Types are flattened into the instances: every property, signal, rule and binding is written on
the twin itself, with its address as resolved for that twin. States and commands can only be
declared by a type in the plant file format, so a twin that has them gets a type holding just
those. Twins that came from one type share it again when their states and commands agree; a
command address is turned back into a template (``L1/mill1/cmd/set_x`` ->
``{line}/{asset}/cmd/{command}``) so that they usually do.
"""

from __future__ import annotations

import io
import json
import re

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from plantwin.interop.aas.imported import ImportedPlant, ImportedTwin, Spec
from plantwin.model.plant import TwinKind

Context = dict[str, str]
# A name in an address equal to one of these context values becomes its placeholder.
_PLACEHOLDER_ORDER = ("command", "component", "asset", "line", "site", "name", "twin")
_NAME = re.compile(r"([A-Za-z][A-Za-z0-9_-]*)")
_FLOW_WIDTH = 90


def plant_yaml(plant: ImportedPlant, source: str) -> str:
    types = _Types()
    sites = CommentedMap()
    for site in plant.sites:
        sites[site.name] = _site(site, types)
    doc = CommentedMap()
    doc["plantwin"] = 1
    doc["name"] = plant.name
    if plant.description:
        doc["description"] = plant.description
    if plant.connectors:
        doc["connectors"] = CommentedMap((k, _flow(s)) for k, s in plant.connectors.items())
    if plant.notifications:
        doc["notifications"] = CommentedMap((k, _flow(s)) for k, s in plant.notifications.items())
    if types.specs:
        doc["types"] = types.specs
    doc["sites"] = sites
    header = [f"plantwin plant file imported by `plantwin import aas` from {source}."]
    header += ["Types were flattened into the twins (see docs/aas.md)."]
    if plant.notes:
        header += ["Notes from the import:", *(f"- {note}" for note in plant.notes)]
    doc.yaml_set_start_comment("\n".join(header))
    yaml = YAML(typ="rt")
    yaml.width = 100
    yaml.indent(mapping=2, sequence=4, offset=2)
    out = io.StringIO()
    yaml.dump(doc, out)
    return out.getvalue()


class _Types:
    """Types generated for twins with states or commands, shared where they agree."""

    def __init__(self) -> None:
        self.specs = CommentedMap()
        self._variants: dict[str, list[tuple[str, str]]] = {}

    def type_for(self, twin: ImportedTwin, context: Context) -> str | None:
        if twin.type_name is None and twin.states is None and not twin.commands:
            return None
        content: Spec = {"kind": "component" if twin.kind is TwinKind.COMPONENT else "asset"}
        if twin.states is not None:
            content["states"] = twin.states
        if twin.commands:
            commands: Spec = {}
            for name, spec in twin.commands.items():
                command = dict(spec)
                binding = twin.command_bindings.get(name)
                if binding is not None:
                    here = {**context, "command": name}
                    command["binding"] = {**binding, "address": _template(binding, here)}
                commands[name] = command
            content["commands"] = commands
        key = json.dumps(content, sort_keys=True, default=str)
        base = (twin.type_name or f"{twin.name[:59]}_type")[:60]
        variants = self._variants.setdefault(base, [])
        for seen, name in variants:
            if seen == key:
                return name
        name = base
        n = len(variants) + 1
        while name in self.specs:
            name = f"{base}_{n}"
            n += 1
        variants.append((key, name))
        self.specs[name] = _block(content)
        return name


def _template(binding: Spec, context: Context) -> str:
    """The address with each name that is one of the twin's names as its placeholder.

    Built from this twin's own names, it always resolves back to the same address; twins
    of one type get equal templates when their addresses follow one pattern.
    """
    pieces = []
    for piece in str(binding["address"]).split("{param}"):
        parts = []
        for part in _NAME.split(piece):
            key = next((k for k in _PLACEHOLDER_ORDER if context.get(k) == part), None)
            parts.append(_escape(part) if key is None or not part else "{" + key + "}")
        pieces.append("".join(parts))
    return "{param}".join(pieces)


def _escape(address: str) -> str:
    """A resolved address as a template that resolves to itself ('{param}' stays a slot)."""
    return address.replace("{", "{{").replace("}", "}}").replace("{{param}}", "{param}")


def _site(twin: ImportedTwin, types: _Types) -> CommentedMap:
    context = {"site": twin.name, "twin": twin.name, "name": twin.name}
    out = _common(twin)
    if twin.timezone and twin.timezone != "UTC":
        out["timezone"] = twin.timezone
    _own(out, twin)
    assets = [c for c in twin.children if c.kind is not TwinKind.LINE]
    lines = [c for c in twin.children if c.kind is TwinKind.LINE]
    if assets:
        out["assets"] = CommentedMap(
            (a.name, _asset(a, {**context, "asset": a.name}, types)) for a in assets
        )
    if lines:
        out["lines"] = CommentedMap(
            (line.name, _line(line, {**context, "line": line.name}, types)) for line in lines
        )
    return out


def _line(twin: ImportedTwin, context: Context, types: _Types) -> CommentedMap:
    context = {**context, "twin": f"{context['site']}.{twin.name}", "name": twin.name}
    out = _common(twin)
    _own(out, twin)
    if twin.children:
        out["assets"] = CommentedMap(
            (a.name, _asset(a, {**context, "asset": a.name}, types)) for a in twin.children
        )
    if twin.position is not None:
        out["position"] = _seq(twin.position)
    return out


def _asset(twin: ImportedTwin, context: Context, types: _Types) -> CommentedMap:
    parent = context["twin"]
    context = {**context, "twin": f"{parent}.{twin.name}", "name": twin.name}
    out = CommentedMap()
    type_name = types.type_for(twin, context)
    if type_name is not None:
        out["type"] = type_name
    out.update(_common(twin))
    _own(out, twin)
    if twin.children:
        out["components"] = CommentedMap(
            (c.name, _asset(c, {**context, "component": c.name}, types)) for c in twin.children
        )
    if twin.position is not None and twin.kind is TwinKind.ASSET:
        out["position"] = _seq(twin.position)
    return out


def _common(twin: ImportedTwin) -> CommentedMap:
    out = CommentedMap()
    if twin.display_name and twin.display_name != twin.name:
        out["name"] = twin.display_name
    if twin.description:
        out["description"] = twin.description
    return out


def _own(out: CommentedMap, twin: ImportedTwin) -> None:
    """Properties, signals, rules and bindings, written on the twin itself."""
    if twin.properties:
        out["properties"] = CommentedMap(twin.properties)
    if twin.signals:
        out["signals"] = CommentedMap((k, _flow(s)) for k, s in twin.signals.items())
    if twin.rules:
        out["rules"] = CommentedMap((k, _flow(s)) for k, s in twin.rules.items())
    if twin.bindings:
        out["bindings"] = CommentedMap(
            (k, _flow({**b, "address": _escape(str(b["address"]))}))
            for k, b in twin.bindings.items()
        )


def _flow(spec: Spec) -> CommentedMap:
    """A small mapping on one line (as in the example plant), a long one as a block."""
    out = _block(spec)
    if len(json.dumps(spec, default=str, ensure_ascii=False)) <= _FLOW_WIDTH:
        out.fa.set_flow_style()
    return out


def _block(value: Spec) -> CommentedMap:
    out = CommentedMap()
    for key, item in value.items():
        if isinstance(item, dict):
            out[key] = _flow(item)
        elif isinstance(item, list):
            out[key] = _seq(item)
        else:
            out[key] = item
    return out


def _seq(items: list[object] | list[float]) -> CommentedSeq:
    out = CommentedSeq(items)
    out.fa.set_flow_style()
    return out

"""An AAS environment as a plant: the twin tree, then each twin's shell.

A file written by plantwin has a plant shell (``Plant`` submodel) whose Hierarchical
Structures submodel is the whole tree. Any other AAS is read as well as it can be: each shell
whose own hierarchy lists parts becomes an asset with those parts as components, the other
shells become assets, and all of them go under one generated site. Every guess is a note.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable

from basyx.aas import model

from plantwin.core.errors import InteropError
from plantwin.interop.aas import vocabulary as v
from plantwin.interop.aas.elements import child, child_value, children, element_name, semantic
from plantwin.interop.aas.imported import ImportedPlant, ImportedTwin, Spec
from plantwin.interop.aas.read_twin import read_shell
from plantwin.model.plant import TwinKind
from plantwin.model.resolve import ID_PATTERN

Store = model.DictIdentifiableStore[model.Identifiable]
Shell = model.AssetAdministrationShell


class _Reader:
    def __init__(self, store: Store, source: str) -> None:
        self.source = source
        self.notes: list[str] = []
        self.shells = [o for o in store if isinstance(o, Shell)]
        self.submodels = {o.id: o for o in store if isinstance(o, model.Submodel)}
        self.by_asset = {
            s.asset_information.global_asset_id: s
            for s in self.shells
            if s.asset_information.global_asset_id is not None
        }
        self.used: set[str] = set()  # shell ids placed in the tree

    def submodels_of(self, shell: Shell) -> list[model.Submodel]:
        out = []
        for ref in shell.submodel:
            found = self.submodels.get(str(ref.key[-1].value)) if ref.key else None
            if found is None:
                self.notes.append(
                    f"shell '{shell.id_short or shell.id}': submodel {ref} is referenced "
                    "but not in the file"
                )
                continue
            out.append(found)
        return out

    def twin(self, name: str, kind: TwinKind, shell: Shell | None) -> ImportedTwin:
        twin = ImportedTwin(name=name, kind=kind)
        if shell is not None:
            self.used.add(shell.id)
            read_shell(shell, self.submodels_of(shell), twin, self.notes)
        return twin


def read_plant(store: Store, source: str) -> ImportedPlant:
    """The plant described by the AAS objects in ``store`` (read from ``source``)."""
    reader = _Reader(store, source)
    if not reader.shells:
        counts = f"{len(reader.submodels)} submodel(s), no shells"
        msg = f"{source}: no Asset Administration Shell in the file ({counts})"
        raise InteropError(msg)
    plant_shell = next(
        (
            s
            for s in reader.shells
            if any(semantic(m) == v.PLANT_SUBMODEL for m in reader.submodels_of(s))
        ),
        None,
    )
    if plant_shell is not None:
        plant = _plantwin_plant(reader, plant_shell)
    else:
        plant = _foreign_plant(reader)
    plant.notes = list(dict.fromkeys(reader.notes))  # a shell may be looked at twice
    return plant


# ----------------------------------------------------------------- written by plantwin


def _plantwin_plant(reader: _Reader, plant_shell: Shell) -> ImportedPlant:
    reader.used.add(plant_shell.id)
    subs = {semantic(m): m for m in reader.submodels_of(plant_shell)}
    info = subs[v.PLANT_SUBMODEL]
    name = child_value(info, "Name")
    description = child_value(info, "Description")
    plant = ImportedPlant(
        name=str(name) if name is not None else reader.source,
        description=str(description) if description is not None else "",
        connectors=_connectors(info, reader.notes),
        notifications=_notifications(info),
    )
    hierarchy = subs.get(v.HIERARCHY_SUBMODEL)
    entry = child(hierarchy, "EntryNode") if hierarchy is not None else None
    if not isinstance(entry, model.Entity):
        reader.notes.append("the plant shell has no hierarchy: shells placed under one site")
        return _foreign_plant(reader, plant)
    for node in _nodes(entry):
        plant.sites.append(_node(reader, node, depth=0))
    _leftovers(reader, plant)
    return plant


def _connectors(info: model.Submodel, notes: list[str]) -> dict[str, Spec]:
    out: dict[str, Spec] = {}
    for item in children(child(info, "Connectors")):
        name = element_name(item)
        spec: Spec = {"kind": child_value(item, "Kind")}
        description = child_value(item, "Description")
        if description:
            spec["description"] = description
        options = child_value(item, "Options")
        if isinstance(options, str):
            try:
                parsed = json.loads(options)
            except json.JSONDecodeError as err:
                parsed = None
                notes.append(f"connector '{name}': Options are not JSON ({err}); left out")
            if isinstance(parsed, dict):
                spec.update(parsed)
        out[name] = spec
    return out


def _notifications(info: model.Submodel) -> dict[str, Spec]:
    out: dict[str, Spec] = {}
    for item in children(child(info, "Notifications")):
        spec: Spec = {"url": child_value(item, "Url")}
        for key, id_short in (
            ("min_priority", "MinPriority"),
            ("timeout", "Timeout"),
            ("retries", "Retries"),
        ):
            value = child_value(item, id_short)
            if value is not None:
                spec[key] = value
        out[element_name(item)] = spec
    return out


_KIND_BY_DEPTH = (TwinKind.SITE, TwinKind.LINE, TwinKind.ASSET)


def _node(reader: _Reader, entity: model.Entity, depth: int) -> ImportedTwin:
    written = child_value(entity, "TwinKind")
    if written in {k.value for k in TwinKind}:
        kind = TwinKind(str(written))
    else:  # not written by plantwin: guess from the depth
        kind = _KIND_BY_DEPTH[depth] if depth < len(_KIND_BY_DEPTH) else TwinKind.COMPONENT
    shell = reader.by_asset.get(entity.global_asset_id) if entity.global_asset_id else None
    twin = reader.twin(element_name(entity), kind, shell)
    if kind in (TwinKind.SITE, TwinKind.LINE) and (twin.states or twin.commands):
        reader.notes.append(
            f"{kind.value} '{twin.name}': states and commands left out "
            "(a plant file gives them to assets and components only)"
        )
        twin.states, twin.commands, twin.command_bindings = None, {}, {}
    position = [
        float(x)
        for axis in "XYZ"
        if isinstance(x := child_value(child(entity, "Position"), axis), int | float)
    ]
    twin.position = position or None
    zone = child_value(entity, "TimeZone")
    twin.timezone = zone if isinstance(zone, str) else None
    twin.children = [_node(reader, node, depth + 1) for node in _nodes(entity)]
    return twin


def _nodes(entity: model.Entity) -> list[model.Entity]:
    return [e for e in entity.statement if isinstance(e, model.Entity)]


def _leftovers(reader: _Reader, plant: ImportedPlant) -> None:
    """Shells outside the tree become site-level assets of the first site."""
    rest = [s for s in reader.shells if s.id not in reader.used]
    if not rest:
        return
    if not plant.sites:
        plant.sites.append(_generated_site(reader))
    site = plant.sites[0]
    for shell in rest:
        if shell.id in reader.used:
            continue
        name = _unique(_safe_name(shell.id_short or shell.id), (c.name for c in site.children))
        reader.notes.append(
            f"shell '{shell.id_short or shell.id}' is not in the plant's tree: "
            f"imported as asset '{name}' of site '{site.name}'"
        )
        site.children.append(_foreign_asset(reader, shell, name, []))


# ----------------------------------------------------------------- written by other tools


def _foreign_plant(reader: _Reader, plant: ImportedPlant | None = None) -> ImportedPlant:
    if plant is None:
        plant = ImportedPlant(name=f"Imported from {reader.source}")
        reader.notes.append(
            "no plantwin 'Plant' submodel: plant named after the file, no connectors, "
            "so no signal is bound to a data source yet"
        )
    site = _generated_site(reader)
    plant.sites.append(site)
    entries = {shell.id: _entry_nodes(reader, shell) for shell in reader.shells}
    parts = {
        node.global_asset_id for nodes in entries.values() for e in nodes for node in _nodes(e)
    }
    for shell in reader.shells:
        if shell.id in reader.used or shell.asset_information.global_asset_id in parts:
            continue
        name = _unique(_safe_name(shell.id_short or shell.id), (c.name for c in site.children))
        site.children.append(_foreign_asset(reader, shell, name, entries[shell.id]))
    _leftovers(reader, plant)  # parts of a part-list cycle, never reached from an asset
    return plant


def _generated_site(reader: _Reader) -> ImportedTwin:
    reader.notes.append(
        "no site in the file: one site 'site' (time zone UTC) holds the imported assets"
    )
    site = ImportedTwin(name="site", kind=TwinKind.SITE)
    site.display_name = f"Imported from {reader.source}"
    return site


def _foreign_asset(
    reader: _Reader, shell: Shell, name: str, entries: list[model.Entity]
) -> ImportedTwin:
    asset = reader.twin(name, TwinKind.ASSET, shell)
    if not asset.signals:
        reader.notes.append(
            f"shell '{shell.id_short or shell.id}': no plantwin Signals submodel, so asset "
            f"'{name}' has no signals (declare them and their bindings to feed live data)"
        )
    for entry in entries:
        asset.children += _components(reader, entry, asset)
    return asset


def _entry_nodes(reader: _Reader, shell: Shell) -> list[model.Entity]:
    out = []
    for sm in reader.submodels_of(shell):
        if semantic(sm) != v.HIERARCHY_SUBMODEL:
            continue
        archetype = child_value(sm, "ArcheType")
        if archetype == "OneUp":
            reader.notes.append(f"hierarchy '{sm.id_short}' (OneUp) names parents only: ignored")
            continue
        out += [e for e in children(sm) if isinstance(e, model.Entity)]
    return out


def _components(reader: _Reader, entity: model.Entity, parent: ImportedTwin) -> list[ImportedTwin]:
    out: list[ImportedTwin] = []
    for node in _nodes(entity):
        shell = reader.by_asset.get(node.global_asset_id) if node.global_asset_id else None
        if shell is not None and shell.id in reader.used:
            continue  # a cycle in the part lists
        name = _unique(_safe_name(element_name(node)), (c.name for c in [*parent.children, *out]))
        part = reader.twin(name, TwinKind.COMPONENT, shell)
        part.children = _components(reader, node, part)
        out.append(part)
    return out


def _safe_name(raw: str) -> str:
    """A plant-file name (letters, digits, '_' and '-', a letter first, at most 64)."""
    name = re.sub(r"[^A-Za-z0-9_-]", "_", re.split(r"[/:#]", raw)[-1])
    if not name or not name[0].isalpha():
        name = "x" + name
    return name[:64]


def _unique(name: str, taken: Iterable[str]) -> str:
    used = set(taken)
    candidate, n = name, 1
    while candidate in used or not ID_PATTERN.match(candidate):
        n += 1
        candidate = f"{name[:60]}_{n}"
    return candidate

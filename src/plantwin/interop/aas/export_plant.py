"""A resolved plant as AAS objects: a plant shell with the tree, and one shell per twin.

The plant shell carries the plant-level data (name, connectors, notifications) and the whole
twin tree as an IDTA 02011 "Hierarchical Structures" submodel (archetype Full: site -> line ->
asset -> component, one node per twin, each pointing at that twin's own shell by its asset id).
Every twin (site, line, asset, component) has its own shell with the submodels of
:mod:`plantwin.interop.aas.export_twin`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import TypeVar

from basyx.aas import model

from plantwin.core.errors import InteropError
from plantwin.interop.aas import vocabulary as v
from plantwin.interop.aas.elements import IdShorts, collection, name_text, prop, reference, text
from plantwin.interop.aas.export_twin import twin_submodels
from plantwin.interop.aas.ids import Ids
from plantwin.model.plant import BindingDef, Plant, Twin

Store = model.DictIdentifiableStore[model.Identifiable]
T = TypeVar("T")
# What basyx raises when a value breaks a metamodel constraint (text lengths, idShorts ...).
_MODEL_ERRORS = (ValueError, TypeError, model.AASConstraintViolation)


class _InOrder(set[T]):
    """A set that iterates in insertion order: a shell's submodel references are a set in
    basyx, and serialising them in hash order would make every export differ."""

    def __init__(self, items: Iterable[T]) -> None:
        self._order = list(dict.fromkeys(items))
        super().__init__(self._order)

    def __iter__(self) -> Iterator[T]:
        return iter(self._order)


def plant_to_aas(plant: Plant, ids: Ids) -> Store:
    """Every shell and submodel of ``plant``, plant shell first, then twins in tree order."""
    store: Store = model.DictIdentifiableStore()
    try:
        plant_submodels = [_plant_submodel(plant, ids), _hierarchy(plant, ids)]
        shell = _shell(ids.plant_shell, ids.plant_asset, "Plant", plant.name, "", plant_submodels)
    except _MODEL_ERRORS as err:
        msg = f"plant '{plant.name}': cannot be written as an AAS: {err}"
        raise InteropError(msg) from err
    store.add(shell)
    for submodel in plant_submodels:
        store.add(submodel)
    bindings: dict[str, BindingDef] = {b.signal: b for b in plant.bindings}
    for twin in plant.twins.values():
        try:
            submodels = list(twin_submodels(plant, twin, ids, bindings))
            shell = _shell(
                ids.shell(twin.id),
                ids.asset(twin.id),
                twin.id.replace(".", "__"),
                twin.name,
                twin.description,
                submodels,
                asset_type=ids.asset_type(twin.type) if twin.type else None,
            )
        except _MODEL_ERRORS as err:  # e.g. a description longer than AAS texts may be
            msg = f"twin {twin.id}: cannot be written as an AAS: {err}"
            raise InteropError(msg) from err
        store.add(shell)
        for submodel in submodels:
            store.add(submodel)
    return store


def _shell(
    shell_id: str,
    asset_id: str,
    id_short: str,
    name: str,
    description: str,
    submodels: list[model.Submodel],
    asset_type: str | None = None,
) -> model.AssetAdministrationShell:
    id_short, _ = IdShorts().take(id_short)
    return model.AssetAdministrationShell(
        asset_information=model.AssetInformation(
            asset_kind=model.AssetKind.INSTANCE, global_asset_id=asset_id, asset_type=asset_type
        ),
        id_=shell_id,
        id_short=id_short,
        display_name=name_text(name),
        description=text(description),
        submodel=_InOrder(model.ModelReference.from_referable(s) for s in submodels),
    )


def _plant_submodel(plant: Plant, ids: Ids) -> model.Submodel:
    connectors: list[model.SubmodelElement] = []
    names = IdShorts()
    for connector in plant.connectors.values():
        id_short, quals = names.take(connector.name)
        items: list[model.SubmodelElement] = [prop("Kind", connector.kind)]
        if connector.description:
            items.append(prop("Description", connector.description))
        if connector.options:
            # Options belong to the connector and may nest; JSON keeps them whole.
            options = json.dumps(dict(connector.options), ensure_ascii=False, default=str)
            items.append(prop("Options", options))
        connectors.append(collection(id_short, items, semantic_id=v.CONNECTOR, qualifiers=quals))
    elements: list[model.SubmodelElement] = [
        prop("Name", plant.name),
        prop("FormatVersion", 1),
    ]
    if plant.description:
        elements.append(prop("Description", plant.description))
    elements.append(collection("Connectors", connectors))
    if plant.notifications:
        elements.append(collection("Notifications", _notifications(plant)))
    return model.Submodel(
        ids.plant_submodel("Plant"),
        elements,
        id_short="Plant",
        semantic_id=reference(v.PLANT_SUBMODEL),
        kind=model.ModellingKind.INSTANCE,
    )


def _notifications(plant: Plant) -> list[model.SubmodelElement]:
    names = IdShorts()
    out: list[model.SubmodelElement] = []
    for hook in plant.notifications.values():
        id_short, quals = names.take(hook.name)
        items: list[model.SubmodelElement] = [
            prop("Url", hook.url),
            prop("MinPriority", hook.min_priority.value),
            prop("Timeout", hook.timeout, description="seconds per delivery attempt"),
            prop("Retries", hook.retries),
        ]
        out.append(collection(id_short, items, semantic_id=v.NOTIFICATION, qualifiers=quals))
    return out


def _hierarchy(plant: Plant, ids: Ids) -> model.Submodel:
    submodel_id = ids.plant_submodel("HierarchicalStructures")
    entry = model.Entity(
        "EntryNode",
        model.EntityType.SELF_MANAGED_ENTITY,
        global_asset_id=ids.plant_asset,
        semantic_id=reference(v.HS_ENTRY_NODE),
    )
    submodel = model.Submodel(
        submodel_id,
        [prop("ArcheType", "Full", semantic_id=v.HS_ARCHETYPE), entry],
        id_short="HierarchicalStructures",
        semantic_id=reference(v.HIERARCHY_SUBMODEL),
        kind=model.ModellingKind.INSTANCE,
    )
    _add_nodes(plant, [t.id for t in plant.roots()], entry, (entry.id_short or "",), submodel, ids)
    return submodel


def _add_nodes(
    plant: Plant,
    twin_ids: list[str] | tuple[str, ...],
    parent: model.Entity,
    path: tuple[str, ...],
    submodel: model.Submodel,
    ids: Ids,
) -> None:
    """Child nodes of ``parent`` with a HasPart relationship to each, recursively."""
    names = IdShorts(reserved=("TwinKind", "Position", "TimeZone"))
    placed: list[tuple[str, model.Entity, Twin]] = []
    for twin_id in twin_ids:
        twin = plant.twins[twin_id]
        id_short, quals = names.take(twin_id.rsplit(".", 1)[-1])
        node = model.Entity(
            id_short,
            model.EntityType.SELF_MANAGED_ENTITY,
            statement=_node_statements(plant, twin),
            global_asset_id=ids.asset(twin.id),
            semantic_id=reference(v.HS_NODE),
            qualifier=quals,
        )
        parent.statement.add(node)
        placed.append((id_short, node, twin))
    for id_short, _node, _twin in placed:
        rel_id, _ = names.take(f"HasPart_{id_short}")
        parent.statement.add(
            model.RelationshipElement(
                rel_id,
                first=_entity_ref(submodel, path),
                second=_entity_ref(submodel, (*path, id_short)),
                semantic_id=reference(v.HS_HAS_PART),
            )
        )
    for id_short, node, twin in placed:
        _add_nodes(plant, twin.children, node, (*path, id_short), submodel, ids)


def _node_statements(plant: Plant, twin: Twin) -> list[model.SubmodelElement]:
    out: list[model.SubmodelElement] = [prop("TwinKind", twin.kind.value, semantic_id=v.TWIN_KIND)]
    if twin.position is not None:
        axes = [prop(axis, value) for axis, value in zip("XYZ", twin.position, strict=False)]
        out.append(collection("Position", axes, semantic_id=v.POSITION))
    zone = plant.timezones.get(twin.id)
    if zone is not None:
        out.append(prop("TimeZone", zone, semantic_id=v.TIME_ZONE))
    return out


def _entity_ref(
    submodel: model.Submodel, path: tuple[str, ...]
) -> model.ModelReference[model.Entity]:
    keys = [model.Key(model.KeyTypes.SUBMODEL, submodel.id)]
    keys += [model.Key(model.KeyTypes.ENTITY, part) for part in path]
    return model.ModelReference(tuple(keys), model.Entity)

"""Reading one shell's submodels into an :class:`ImportedTwin`.

plantwin's own submodels (rules: :mod:`plantwin.interop.aas.read_rules`) are recognised by
semantic id (or, failing that, by idShort).
A nameplate (IDTA 02006, v1 or v2) gives maker, model, serial and a few more properties.
Any other submodel's properties become plain properties of the twin; what cannot be a
property (files, operations, relationships ...) is named in a note, never dropped silently.
"""

from __future__ import annotations

from basyx.aas import model

from plantwin.interop.aas import vocabulary as v
from plantwin.interop.aas.elements import (
    child,
    child_value,
    children,
    element_name,
    json_qualifier_value,
    lang_text,
    plain,
    qualifier_value,
    semantic,
)
from plantwin.interop.aas.ids import type_name_of
from plantwin.interop.aas.imported import ImportedTwin, Spec
from plantwin.interop.aas.read_rules import read_rules
from plantwin.model.resolve import CATEGORY_BY_NAME, ID_PATTERN
from plantwin.model.units import UnitError, parse_unit

# Reading order: bindings last, since a binding's default unit is its signal's or parameter's.
_ORDER = [
    v.NAMEPLATE_SUBMODEL,
    v.PROPERTIES_SUBMODEL,
    v.SIGNALS_SUBMODEL,
    v.STATES_SUBMODEL,
    v.COMMANDS_SUBMODEL,
    v.BINDINGS_SUBMODEL,
    v.RULES_SUBMODEL,
]
_BY_ID_SHORT = {short: sem for sem, short in v.SUBMODEL_ID_SHORTS.items()}
_NAMEPLATES = {v.NAMEPLATE_SUBMODEL, v.NAMEPLATE_V1_SUBMODEL}
_NAMEPLATE_BY_ID_SHORT = {short: name for name, (short, _) in v.NAMEPLATE_PROPERTIES.items()}
_NAMEPLATE_BY_SEMANTIC = {sem: name for name, (_, sem) in v.NAMEPLATE_PROPERTIES.items()}


def kind_of(submodel: model.Submodel) -> str | None:
    """The mapping concept a submodel stands for, or None for another tool's submodel."""
    sem = semantic(submodel)
    if sem in _NAMEPLATES:
        return v.NAMEPLATE_SUBMODEL
    if sem in v.SUBMODEL_ID_SHORTS:
        return sem
    if sem is None and submodel.id_short in _BY_ID_SHORT:
        return _BY_ID_SHORT[submodel.id_short]
    return None


def read_shell(
    shell: model.AssetAdministrationShell,
    submodels: list[model.Submodel],
    twin: ImportedTwin,
    notes: list[str],
) -> None:
    where = f"shell '{shell.id_short or shell.id}'"
    twin.display_name = lang_text(shell.display_name) or None
    twin.description = lang_text(shell.description)
    type_name = type_name_of(shell.asset_information.asset_type)
    if type_name is not None and ID_PATTERN.match(type_name):
        twin.type_name = type_name
    ranked = sorted(submodels, key=lambda s: (_rank(kind_of(s)), s.id))
    for submodel in ranked:
        at = f"{where} submodel '{submodel.id_short or submodel.id}'"
        kind = kind_of(submodel)
        if kind in (v.HIERARCHY_SUBMODEL, v.PLANT_SUBMODEL):
            continue  # the tree and the plant: read by plantwin.interop.aas.reading
        if kind == v.NAMEPLATE_SUBMODEL:
            _nameplate(submodel, twin, at, notes)
        elif kind == v.PROPERTIES_SUBMODEL:
            _properties(submodel, twin, at, notes)
        elif kind == v.SIGNALS_SUBMODEL:
            _signals(submodel, twin, at, notes)
        elif kind == v.STATES_SUBMODEL:
            _states(submodel, twin, at, notes)
        elif kind == v.COMMANDS_SUBMODEL:
            for op in children(submodel):
                _command(op, twin, at, notes)
        elif kind == v.BINDINGS_SUBMODEL:
            _bindings(submodel, twin, at, notes)
        elif kind == v.RULES_SUBMODEL:
            read_rules(submodel, twin, at, notes)
        else:
            _other(submodel, twin, at, notes)


def _rank(kind: str | None) -> int:
    return _ORDER.index(kind) if kind in _ORDER else len(_ORDER)


def _nameplate(sm: model.Submodel, twin: ImportedTwin, at: str, notes: list[str]) -> None:
    skipped: list[str] = []
    for item in children(sm):
        short = item.id_short or ""
        if isinstance(item, model.SubmodelElementCollection | model.SubmodelElementList):
            _flatten(item, f"{short}.", sm, twin, at, notes, skipped)  # e.g. contact address
            continue
        sem = semantic(item) or ""
        name = _NAMEPLATE_BY_SEMANTIC.get(sem) or _NAMEPLATE_BY_ID_SHORT.get(short)
        name = name or v.NAMEPLATE_EXTRAS.get(short) or short
        if isinstance(item, model.Property | model.MultiLanguageProperty):
            _data_element(item, name, twin, at, notes)
        else:
            skipped.append(f"{short} ({type(item).__name__})")
    _note_skipped(skipped, at, notes)


def _properties(sm: model.Submodel, twin: ImportedTwin, at: str, notes: list[str]) -> None:
    for item in children(sm):
        _data_element(item, element_name(item), twin, at, notes)


def _other(sm: model.Submodel, twin: ImportedTwin, at: str, notes: list[str]) -> None:
    """Another tool's submodel: its properties, at any depth, become twin properties."""
    skipped: list[str] = []
    _flatten(sm, "", sm, twin, at, notes, skipped)
    _note_skipped(skipped, at, notes)


def _flatten(
    element: object,
    path: str,
    sm: model.Submodel,
    twin: ImportedTwin,
    at: str,
    notes: list[str],
    skipped: list[str],
) -> None:
    for item in children(element):
        short = item.id_short or ""
        if isinstance(item, model.SubmodelElementCollection | model.SubmodelElementList):
            _flatten(item, f"{path}{short}.", sm, twin, at, notes, skipped)
        elif isinstance(item, model.Property | model.MultiLanguageProperty):
            name = short if short not in twin.properties else f"{sm.id_short}_{short}"
            _data_element(item, name, twin, at, notes)
        else:
            skipped.append(f"{path}{short} ({type(item).__name__})")


def _note_skipped(skipped: list[str], at: str, notes: list[str]) -> None:
    if skipped:
        notes.append(f"{at}: not imported (no plant-file equivalent): {', '.join(skipped)}")


def _data_element(
    item: model.SubmodelElement, name: str, twin: ImportedTwin, at: str, notes: list[str]
) -> None:
    if isinstance(item, model.Property):
        value = plain(item.value)
    elif isinstance(item, model.MultiLanguageProperty):
        value = lang_text(item.value) or None
    else:
        notes.append(f"{at}: {item.id_short} ({type(item).__name__}) not imported")
        return
    if value is None:
        notes.append(f"{at}: {item.id_short} has no value; left out")
        return
    twin.properties[name] = value


def _signals(sm: model.Submodel, twin: ImportedTwin, at: str, notes: list[str]) -> None:
    for item in children(sm):
        if not isinstance(item, model.SubmodelElementCollection):
            notes.append(f"{at}: {item.id_short} is not a signal collection; left out")
            continue
        name = element_name(item)
        twin.signals[name] = _signal(item, f"{at} signal '{name}'", notes)


def _signal(smc: model.SubmodelElementCollection, at: str, notes: list[str]) -> Spec:
    value = child(smc, "Value")
    spec: Spec = {"unit": _unit(smc, value, at, notes)}
    dtype = _dtype(value.value_type) if isinstance(value, model.Property) else "float"
    if dtype not in ("float", "str"):
        spec["type"] = dtype
    span = child(smc, "Range")
    if isinstance(span, model.Range) and span.min is not None and span.max is not None:
        spec["range"] = [float(span.min), float(span.max)]
    rate = child_value(smc, "Rate")
    if isinstance(rate, int | float) and not isinstance(rate, bool):
        spec["rate"] = float(rate)
    if child_value(smc, "Counter") is True:
        spec["counter"] = True
    expr = child_value(smc, "Expression")
    if isinstance(expr, str):
        spec["expr"] = expr
    window = child(smc, "Window")
    if window is not None:
        spec["window"] = _window(window)
    health = child(smc, "Health")
    if health is not None:
        spec["health"] = _health(health)
    predict = child(smc, "Predict")
    if predict is not None:
        names = child_value(predict, "Signals")
        made: Spec = {
            "model": child_value(predict, "Model"),
            "signals": [n.strip() for n in names.split(",")] if isinstance(names, str) else [],
            "every": child_value(predict, "Every"),
        }
        if child_value(predict, "Version") is not None:
            made["version"] = child_value(predict, "Version")
        spec["predict"] = made
    rul = child(smc, "Rul")
    if rul is not None:
        spec["rul"] = {
            key.lower(): child_value(rul, key)
            for key in ("Model", "Signal", "Running", "Failure", "Every", "Low", "High", "Version")
            if child_value(rul, key) is not None
        }
    description = lang_text(smc.description)
    if description:
        spec["description"] = description
    return spec


def _window(window: model.SubmodelElement) -> Spec:
    spec: Spec = {"signal": child_value(window, "Signal"), "fn": child_value(window, "Function")}
    width, every = child_value(window, "Width"), child_value(window, "Every")
    spec["width"] = width
    if every is not None and every != width:
        spec["every"] = every
    return spec


def _health(health: model.SubmodelElement) -> Spec:
    names = child_value(health, "Signals")
    spec: Spec = {
        "signals": [n.strip() for n in names.split(",")] if isinstance(names, str) else []
    }
    for key in ("Of", "Detector", "Fit", "Every"):
        value = child_value(health, key)
        if value is not None:
            spec[key.lower()] = value
    when = child(health, "HealthyWhen")
    if when is not None:
        spec["healthy_when"] = {
            key.lower(): value
            for key in ("Signal", "Above", "Below")
            if (value := child_value(when, key)) is not None
        }
    return spec


def _unit(
    smc: model.SubmodelElementCollection,
    value: model.SubmodelElement | None,
    at: str,
    notes: list[str],
) -> str:
    candidates = [child_value(smc, "Unit")]
    if isinstance(value, model.Property):
        for spec in value.embedded_data_specifications:
            content = spec.data_specification_content
            if isinstance(content, model.DataSpecificationIEC61360):
                candidates.append(content.unit)
    for unit in candidates:
        if isinstance(unit, str) and unit:
            try:
                parse_unit(unit)
            except UnitError:
                notes.append(f"{at}: unit '{unit}' is not known; 'dimensionless' used")
                return "dimensionless"
            return unit
    notes.append(f"{at}: no unit given; 'dimensionless' used")
    return "dimensionless"


def _dtype(value_type: type[object]) -> str:
    if value_type is bool:
        return "bool"
    if issubclass(value_type, int):
        return "int"
    if issubclass(value_type, str):
        return "str"
    return "float"


def _states(sm: model.Submodel, twin: ImportedTwin, at: str, notes: list[str]) -> None:
    values: Spec = {}
    for item in children(child(sm, "States")):
        name = element_name(item)
        code = child_value(item, "Code")
        category = child_value(item, "Category")
        if not isinstance(code, int) or isinstance(code, bool):
            notes.append(f"{at}: state '{name}' has no integer Code; left out")
            continue
        if category is None or CATEGORY_BY_NAME.get(name) == category:
            values[name] = code
        else:
            values[name] = {"code": code, "category": category}
    signal = child_value(sm, "StateSignal")
    twin.states = {"signal": signal if isinstance(signal, str) else "state", "values": values}


def _command(op: model.SubmodelElement, twin: ImportedTwin, at: str, notes: list[str]) -> None:
    if not isinstance(op, model.Operation):
        notes.append(f"{at}: {op.id_short} is not an Operation; left out")
        return
    spec: Spec = {}
    description = lang_text(op.description)
    if description:
        spec["description"] = description
    params: Spec = {}
    for var in op.input_variable:
        if isinstance(var, model.Property):
            params[element_name(var)] = _param(var)
        else:
            notes.append(f"{at}: parameter {var.id_short} is not a Property; left out")
    if params:
        spec["params"] = params
    allowed = json_qualifier_value(op, "AllowedStates")
    if isinstance(allowed, list):
        spec["allowed_states"] = allowed
    if json_qualifier_value(op, "Critical") is True:
        spec["critical"] = True
    loop = json_qualifier_value(op, "ClosedLoop")
    if isinstance(loop, dict):
        spec.update(
            {k: loop[k] for k in ("reports", "tolerance", "timeout", "interlocks") if k in loop}
        )
    twin.commands[element_name(op)] = spec


def _param(var: model.Property) -> Spec:
    spec: Spec = {}
    dtype = _dtype(var.value_type)
    if dtype != "float":
        spec["type"] = dtype
    unit = qualifier_value(var, "Unit")
    if unit is not None:
        spec["unit"] = unit
    for key, qualifier in (("min", "Min"), ("max", "Max"), ("default", "Default")):
        value = json_qualifier_value(var, qualifier)
        if value is not None:
            spec[key] = value
    choices = json_qualifier_value(var, "Choices")
    if isinstance(choices, list):
        spec["choices"] = choices
    description = lang_text(var.description)
    if description:
        spec["description"] = description
    return spec


def _bindings(sm: model.Submodel, twin: ImportedTwin, at: str, notes: list[str]) -> None:
    for item in children(child(sm, "Signals")):
        name = element_name(item)
        if name not in twin.signals:
            notes.append(f"{at}: binding of unknown signal '{name}' left out")
            continue
        default = twin.signals[name].get("unit")
        twin.bindings[name] = _binding(item, default)
    for item in children(child(sm, "Commands")):
        name = element_name(item)
        if name not in twin.commands:
            notes.append(f"{at}: binding of unknown command '{name}' left out")
            continue
        params = twin.commands[name].get("params")
        units = [p.get("unit") for p in params.values()] if isinstance(params, dict) else []
        units = [u for u in units if u]
        twin.command_bindings[name] = _binding(item, units[0] if units else "dimensionless")


def _binding(item: model.SubmodelElement, default_unit: object) -> Spec:
    spec: Spec = {
        "connector": child_value(item, "Connector"),
        "address": child_value(item, "Address"),
    }
    scale, offset = child_value(item, "Scale"), child_value(item, "Offset")
    if scale is not None and scale != 1.0:
        spec["scale"] = scale
    if offset is not None and offset != 0.0:
        spec["offset"] = offset
    unit = child_value(item, "SourceUnit")
    if unit is not None and unit != default_unit:
        spec["unit"] = unit
    return spec

"""Small typed helpers over basyx: building elements, and reading values back as plain Python.

basyx's own types are broad (``AnyXSDType`` unions, mutable namespace sets); these helpers keep
that breadth at the edge, so the exporter and importer work with ``PropertyValue`` and ``str``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from datetime import date, datetime

from basyx.aas import model
from basyx.aas.model import datatypes

from plantwin.interop.aas import vocabulary as v
from plantwin.model.plant import PropertyValue

XsdType = type[datatypes.AnyXSDType]

# AASd-002: a letter first, then letters, digits, '_' or '-', not ending with '-'.
ID_SHORT = re.compile(r"[a-zA-Z]([a-zA-Z0-9_-]*[a-zA-Z0-9_])?\Z")
ID_SHORT_MAX = 128


def reference(semantic_id: str) -> model.ExternalReference:
    """An external (global) reference, the form semantic ids take."""
    return model.ExternalReference((model.Key(model.KeyTypes.GLOBAL_REFERENCE, semantic_id),))


def text(value: str) -> model.MultiLanguageTextType | None:
    return model.MultiLanguageTextType({v.LANGUAGE: value}) if value else None


def name_text(value: str) -> model.MultiLanguageNameType | None:
    return model.MultiLanguageNameType({v.LANGUAGE: value}) if value else None


def xsd_type(value: PropertyValue) -> XsdType:
    """The XSD type that keeps a plant property's Python type through a round trip."""
    if isinstance(value, bool):
        return datatypes.Boolean
    if isinstance(value, int):
        return datatypes.Integer  # unbounded, like a YAML integer
    if isinstance(value, float):
        return datatypes.Double
    if isinstance(value, date):
        return datatypes.Date
    return datatypes.String


def prop(
    id_short: str,
    value: PropertyValue | None,
    *,
    value_type: XsdType | None = None,
    semantic_id: str | None = None,
    description: str = "",
    qualifiers: Iterable[model.Qualifier] = (),
    data_specs: Iterable[model.EmbeddedDataSpecification] = (),
) -> model.Property:
    if value_type is None:
        value_type = datatypes.String if value is None else xsd_type(value)
    return model.Property(
        id_short,
        value_type,
        value,
        description=text(description),
        semantic_id=reference(semantic_id) if semantic_id else None,
        qualifier=qualifiers,
        embedded_data_specifications=data_specs,
    )


def qualifier(type_: str, value: PropertyValue) -> model.Qualifier:
    return model.Qualifier(type_, xsd_type(value), value)


def json_qualifier(type_: str, value: object) -> model.Qualifier:
    """A value as JSON text: lists fit, and so do 0, false and "" (basyx 2.2.0 leaves a
    qualifier's falsy value out of JSON and XML, which would turn min: 0 into no minimum)."""
    text = json.dumps(value, ensure_ascii=False, default=str)
    return model.Qualifier(type_, datatypes.String, text)


def json_qualifier_value(element: model.Qualifiable, type_: str) -> object:
    """The value of a qualifier written by :func:`json_qualifier` (None when absent)."""
    raw = qualifier_value(element, type_)
    if not isinstance(raw, str):
        return raw
    try:
        return json.loads(raw)
    except json.JSONDecodeError:
        return raw  # written by another tool as plain text


def collection(
    id_short: str,
    elements: Iterable[model.SubmodelElement],
    *,
    semantic_id: str | None = None,
    description: str = "",
    qualifiers: Iterable[model.Qualifier] = (),
) -> model.SubmodelElementCollection:
    return model.SubmodelElementCollection(
        id_short,
        elements,
        description=text(description),
        semantic_id=reference(semantic_id) if semantic_id else None,
        qualifier=qualifiers,
    )


class IdShorts:
    """Hands out unique, valid idShorts in one namespace.

    A name that is not a valid idShort (``rated power``, a one-letter name ending in '-') or
    that is taken gets a cleaned idShort plus a ``plantwin:name`` qualifier holding the name,
    so the importer restores it exactly.
    """

    def __init__(self, reserved: Iterable[str] = ()) -> None:
        self._taken = set(reserved)

    def take(self, name: str) -> tuple[str, list[model.Qualifier]]:
        if ID_SHORT.match(name) and len(name) <= ID_SHORT_MAX and name not in self._taken:
            self._taken.add(name)
            return name, []
        base = re.sub(r"[^a-zA-Z0-9_-]", "_", name)[: ID_SHORT_MAX - 8]
        if not base or not base[0].isalpha():
            base = "x" + base
        base = base.rstrip("-") or "x"
        candidate, n = base, 1
        while candidate in self._taken or not ID_SHORT.match(candidate):
            n += 1
            candidate = f"{base}_{n}"
        self._taken.add(candidate)
        return candidate, [model.Qualifier(v.NAME_QUALIFIER, datatypes.String, name)]


# ----------------------------------------------------------------------------- reading


def semantic(element: model.HasSemantics) -> str | None:
    """The first key of the element's semantic id (how templates are recognised)."""
    ref = element.semantic_id
    if ref is None or not ref.key:
        return None
    return str(ref.key[0].value)


def element_name(element: model.Referable) -> str:
    """The plant name of an element: its ``plantwin:name`` qualifier, else its idShort."""
    if isinstance(element, model.Qualifiable):
        found = qualifier_value(element, v.NAME_QUALIFIER)
        if isinstance(found, str):
            return found
    return element.id_short or ""


def qualifier_value(element: model.Qualifiable, type_: str) -> PropertyValue | None:
    for q in element.qualifier:
        if q.type == type_:
            return plain(q.value)
    return None


def plain(value: datatypes.AnyXSDType | None) -> PropertyValue | None:
    """A basyx value as a plain Python value (dates as ``date``, other XSD types as text)."""
    if value is None:
        return None
    if isinstance(value, bool | str):
        return value if isinstance(value, bool) else str(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, date) and not isinstance(value, datetime):
        return date(value.year, value.month, value.day)  # basyx's Date may carry a zone
    return datatypes.xsd_repr(value)  # any other XSD atomic value (durations, times ...)


def lang_text(strings: model.LangStringSet | None) -> str:
    """English text if present, else the first language's."""
    if not strings:
        return ""
    if v.LANGUAGE in strings:
        return strings[v.LANGUAGE]
    return next(iter(strings.values()))


def children(element: object) -> list[model.SubmodelElement]:
    """The direct elements of a submodel, collection or entity, in document order."""
    if isinstance(element, model.Submodel):
        return list(element.submodel_element)
    if isinstance(element, model.SubmodelElementCollection | model.SubmodelElementList):
        return list(element.value)
    if isinstance(element, model.Entity):
        return list(element.statement)
    return []


def child(element: object, id_short: str) -> model.SubmodelElement | None:
    for item in children(element):
        if item.id_short == id_short:
            return item
    return None


def child_value(element: object, id_short: str) -> PropertyValue | None:
    item = child(element, id_short)
    if isinstance(item, model.Property):
        return plain(item.value)
    if isinstance(item, model.MultiLanguageProperty):
        return lang_text(item.value) or None
    return None

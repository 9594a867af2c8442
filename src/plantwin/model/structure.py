"""First pass over a plant file: check its structure piece by piece with pydantic.

Each connector, type, site, line and asset is validated on its own, so a mistake in one does
not hide the mistakes in the others; pydantic's errors are turned into problems at YAML paths.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from plantwin.model.problems import Path, ProblemLog
from plantwin.model.schema import (
    AssetSpec,
    ConnectorSpec,
    FmuSpec,
    LineSpec,
    PlantFileSpec,
    SiteSpec,
    TypeSpec,
)

M = TypeVar("M", bound=BaseModel)


@dataclass(slots=True)
class LineParts:
    spec: LineSpec
    assets: dict[str, AssetSpec] = field(default_factory=dict)


@dataclass(slots=True)
class SiteParts:
    spec: SiteSpec
    assets: dict[str, AssetSpec] = field(default_factory=dict)
    lines: dict[str, LineParts] = field(default_factory=dict)


@dataclass(slots=True)
class FileParts:
    """The pieces of a plant file that passed the structure check."""

    header: PlantFileSpec | None = None
    connectors: dict[str, ConnectorSpec] = field(default_factory=dict)
    types: dict[str, TypeSpec] = field(default_factory=dict)
    sites: dict[str, SiteParts] = field(default_factory=dict)
    fmus: dict[str, FmuSpec] = field(default_factory=dict)


def check_structure(data: Any, log: ProblemLog) -> FileParts:
    parts = FileParts()
    if not isinstance(data, dict):
        log.add((), "a plant file is a YAML mapping with keys plantwin, name, types and sites")
        return parts
    pieces = ("connectors", "types", "sites", "fmus")
    header = {k: v for k, v in data.items() if k not in pieces}
    parts.header = validate(
        PlantFileSpec, {**header, "connectors": {}, "types": {}, "sites": {}}, (), data, log
    )
    for name, raw in _section(data, "connectors", (), log).items():
        spec = validate(ConnectorSpec, raw, ("connectors", name), raw, log)
        if spec is not None:
            parts.connectors[name] = spec
    for name, raw in _section(data, "types", (), log).items():
        type_spec = validate(TypeSpec, raw, ("types", name), raw, log)
        if type_spec is not None:
            parts.types[name] = type_spec
    for name, raw in _section(data, "fmus", (), log).items():
        fmu = validate(FmuSpec, raw, ("fmus", name), raw, log)
        if fmu is not None:
            parts.fmus[name] = fmu
    if not data.get("sites"):
        log.add(("sites",), "a plant has at least one site under 'sites'")
    for name, raw in _section(data, "sites", (), log).items():
        site = _site(raw, ("sites", name), log)
        if site is not None:
            parts.sites[name] = site
    return parts


def _site(raw: Any, path: Path, log: ProblemLog) -> SiteParts | None:
    if not isinstance(raw, dict):
        log.add(path, f"a site is a mapping, got {type(raw).__name__}")
        return None
    bare = {k: v for k, v in raw.items() if k not in ("assets", "lines")}
    spec = validate(SiteSpec, bare, path, raw, log)
    if spec is None:
        return None
    site = SiteParts(spec=spec)
    site.assets = _assets(raw, path, log)
    for name, line_raw in _section(raw, "lines", path, log).items():
        line_path = (*path, "lines", name)
        if not isinstance(line_raw, dict):
            log.add(line_path, f"a line is a mapping, got {type(line_raw).__name__}")
            continue
        line_bare = {k: v for k, v in line_raw.items() if k != "assets"}
        line_spec = validate(LineSpec, line_bare, line_path, line_raw, log)
        if line_spec is not None:
            site.lines[name] = LineParts(spec=line_spec, assets=_assets(line_raw, line_path, log))
    return site


def _assets(raw: dict[str, Any], path: Path, log: ProblemLog) -> dict[str, AssetSpec]:
    out: dict[str, AssetSpec] = {}
    for name, asset_raw in _section(raw, "assets", path, log).items():
        spec = validate(AssetSpec, asset_raw, (*path, "assets", name), asset_raw, log)
        if spec is not None:
            out[name] = spec
    return out


def _section(data: dict[str, Any], key: str, path: Path, log: ProblemLog) -> dict[str, Any]:
    value = data.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        log.add((*path, key), f"'{key}' must be a mapping of names to entries")
        return {}
    return value


def validate(model: type[M], data: Any, path: Path, original: Any, log: ProblemLog) -> M | None:
    """``model`` built from ``data``, or None after logging every error at its YAML path."""
    try:
        return model.model_validate(data)
    except ValidationError as err:
        merged: dict[Path, list[str]] = {}
        for error in err.errors():
            where, message = _explain(model, error, original)
            merged.setdefault((*path, *where), [])
            if message not in merged[(*path, *where)]:
                merged[(*path, *where)].append(message)
        for where, messages in merged.items():
            log.add(where, "; or ".join(messages))
        return None


def _explain(model: type[BaseModel], error: Any, original: Any) -> tuple[Path, str]:
    loc: tuple[str | int, ...] = tuple(error["loc"])
    # pydantic adds union member names ("int", "StateSpec") to loc; keep only real YAML keys.
    where: list[str | int] = []
    node = original
    for part in loc:
        if isinstance(node, dict) and part in node:  # noqa: SIM114 - narrows node differently
            where.append(part)
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and part < len(node):
            where.append(part)
            node = node[part]
        elif error["type"] in ("missing", "extra_forbidden") and part == loc[-1]:
            break
    kind = error["type"]
    if kind == "missing":
        return tuple(where), f"missing required key '{loc[-1]}'"
    if kind == "extra_forbidden":
        key = str(loc[-1])
        known = _field_names(model, loc[:-1])
        hint = difflib.get_close_matches(key, known, n=1)
        suggestion = f"; did you mean '{hint[0]}'?" if hint else ""
        return tuple(where), f"unknown key '{key}'{suggestion}"
    shown = repr(error.get("input"))
    if len(shown) > 60:
        shown = shown[:57] + "..."
    return tuple(where), f"{error['msg']} (got {shown})"


def _field_names(model: type[BaseModel], loc: tuple[str | int, ...]) -> list[str]:
    """Field names of the nested model at ``loc``, for 'did you mean' hints."""
    current: Any = model
    for part in loc:
        if not (isinstance(current, type) and issubclass(current, BaseModel)):
            return []
        info = current.model_fields.get(str(part))
        if info is None:
            continue  # a dict key such as a signal name: stay on the value model
        current = _inner_model(info.annotation)
    if isinstance(current, type) and issubclass(current, BaseModel):
        return list(current.model_fields)
    return []


def _inner_model(annotation: Any) -> Any:
    args = getattr(annotation, "__args__", None)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if args:
        for arg in reversed(args):
            inner = _inner_model(arg)
            if isinstance(inner, type) and issubclass(inner, BaseModel):
                return inner
    return annotation

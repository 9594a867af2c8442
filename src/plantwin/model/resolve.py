"""Second pass: expand types into the twin tree and check what the declarations mean."""

from __future__ import annotations

import re
import zoneinfo
from dataclasses import dataclass, field

from plantwin.model.calendar import check_calendar
from plantwin.model.expressions import Expression
from plantwin.model.layers import (
    Effective,
    Layer,
    Located,
    component_layer,
    expand_types,
    merge,
)
from plantwin.model.plant import (
    Calendar,
    CommandDef,
    ParamDef,
    PropertyValue,
    SignalDef,
    StateDef,
    StateModel,
    TwinKind,
)
from plantwin.model.problems import Path, ProblemLog
from plantwin.model.schema import (
    AssetSpec,
    CommandSpec,
    DataType,
    LineKpiSpec,
    SignalSpec,
    StateCategory,
    StatesSpec,
)
from plantwin.model.signals import check_signal
from plantwin.model.structure import FileParts
from plantwin.model.units import UnitError, parse_unit

ID_PATTERN = re.compile(r"[A-Za-z][A-Za-z0-9_-]{0,63}\Z")
MAX_COMPONENT_DEPTH = 8

# Well-known state names and their ISO 22400 category; other names must give one.
CATEGORY_BY_NAME: dict[str, StateCategory] = {
    "running": StateCategory.PRODUCTION,
    "producing": StateCategory.PRODUCTION,
    "executing": StateCategory.PRODUCTION,
    "loaded": StateCategory.PRODUCTION,
    "setup": StateCategory.SETUP,
    "changeover": StateCategory.SETUP,
    "idle": StateCategory.IDLE,
    "starved": StateCategory.IDLE,
    "blocked": StateCategory.IDLE,
    "unloaded": StateCategory.IDLE,
    "waiting": StateCategory.IDLE,
    "down": StateCategory.FAULT,
    "fault": StateCategory.FAULT,
    "failure": StateCategory.FAULT,
    "breakdown": StateCategory.FAULT,
    "maintenance": StateCategory.PLANNED,
    "planned_stop": StateCategory.PLANNED,
    "break": StateCategory.PLANNED,
    "off": StateCategory.OFF,
}


@dataclass(slots=True)
class TwinDraft:
    id: str
    kind: TwinKind
    parent: str | None
    path: Path
    context: dict[str, str]
    effective: Effective
    position: tuple[float, ...] | None = None
    children: list[str] = field(default_factory=list)
    signals: list[str] = field(default_factory=list)
    states: StateModel | None = None
    commands: list[CommandDef] = field(default_factory=list)

    @property
    def depth(self) -> int:
        return self.id.count(".")

    def properties(self) -> dict[str, PropertyValue]:
        return {k: v.value for k, v in self.effective.properties.items()}


@dataclass(slots=True)
class PendingDerived:
    key: str
    twin: str
    location: Located[SignalSpec]
    expression: Expression


class TreeBuilder:
    """Builds twin drafts and signal definitions from the structure-checked file."""

    def __init__(self, parts: FileParts, log: ProblemLog) -> None:
        self.parts = parts
        self.log = log
        self.twins: dict[str, TwinDraft] = {}
        self.signals: dict[str, SignalDef] = {}
        self.signal_paths: dict[str, Path] = {}
        self.broken: set[str] = set()  # declared but invalid: names resolving here stay quiet
        self.derived: list[PendingDerived] = []
        self.windows: list[tuple[str, str, Located[SignalSpec]]] = []  # key, twin, declaration
        self.health: list[tuple[str, str, Located[SignalSpec]]] = []  # key, twin, declaration
        self.predict: list[tuple[str, str, Located[SignalSpec]]] = []  # key, twin, declaration
        self.rul: list[tuple[str, str, Located[SignalSpec]]] = []
        self.timezones: dict[str, str] = {}
        self.calendars: dict[str, Calendar] = {}
        self.line_kpis: dict[str, Located[LineKpiSpec]] = {}

    def build(self) -> None:
        for name in self.parts.connectors:
            self._check_id(name, ("connectors", name), "connector")
        for name in self.parts.types:
            self._check_id(name, ("types", name), "type")
        for site_id, site in self.parts.sites.items():
            site_path: Path = ("sites", site_id)
            if not self._check_id(site_id, site_path, "site"):
                continue
            self._timezone(site_id, site.spec.timezone, site_path)
            zone = self.timezones.get(site_id, "UTC")
            self.calendars[site_id] = check_calendar(zone, site.spec.shifts, site_path, self.log)
            layer = Layer(
                path=site_path,
                description=site.spec.description,
                display_name=site.spec.name,
                properties=dict(site.spec.properties),
                signals=dict(site.spec.signals),
                bindings=dict(site.spec.bindings),
                rules=dict(site.spec.rules),
            )
            self._add(site_id, TwinKind.SITE, None, site_path, [layer], {"site": site_id})
            self._assets(site_id, site.assets, site_path, {"site": site_id})
            for line_id, line in site.lines.items():
                line_path: Path = (*site_path, "lines", line_id)
                if not self._check_id(line_id, line_path, "line"):
                    continue
                line_layer = Layer(
                    path=line_path,
                    description=line.spec.description,
                    display_name=line.spec.name,
                    properties=dict(line.spec.properties),
                    signals=dict(line.spec.signals),
                    bindings=dict(line.spec.bindings),
                    rules=dict(line.spec.rules),
                )
                context = {"site": site_id, "line": line_id}
                twin_id = f"{site_id}.{line_id}"
                draft = self._add(twin_id, TwinKind.LINE, site_id, line_path, [line_layer], context)
                draft.position = line.spec.position
                if line.spec.kpi is not None:
                    self.line_kpis[twin_id] = Located(line.spec.kpi, (*line_path, "kpi"))
                self._assets(twin_id, line.assets, line_path, context)

    def _assets(
        self, parent: str, assets: dict[str, AssetSpec], path: Path, context: dict[str, str]
    ) -> None:
        for asset_id, spec in assets.items():
            asset_path: Path = (*path, "assets", asset_id)
            if not self._check_id(asset_id, asset_path, "asset"):
                continue
            layer = component_layer(asset_path, spec)
            twin_id = f"{parent}.{asset_id}"
            draft = self._add(
                twin_id, TwinKind.ASSET, parent, asset_path, [layer], {**context, "asset": asset_id}
            )
            draft.position = spec.position

    def _add(
        self,
        twin_id: str,
        kind: TwinKind,
        parent: str | None,
        path: Path,
        layers: list[Layer],
        context: dict[str, str],
        type_chain: tuple[str, ...] = (),
    ) -> TwinDraft:
        if kind in (TwinKind.ASSET, TwinKind.COMPONENT):
            layers = expand_types(layers, self.parts.types, kind.value, self.log)
        effective = merge(layers)
        name = twin_id.rsplit(".", 1)[-1]
        draft = TwinDraft(
            id=twin_id,
            kind=kind,
            parent=parent,
            path=path,
            context={**context, "twin": twin_id, "name": name},
            effective=effective,
        )
        self.twins[twin_id] = draft
        if parent is not None:
            self.twins[parent].children.append(twin_id)
        for signal_name, loc in effective.signals.items():
            self._signal(draft, signal_name, loc)
        if effective.states is not None:
            draft.states = self._states(draft, effective.states)
        for command_name, command in effective.commands.items():
            checked = self._command(draft, command_name, command)
            if checked is not None:
                draft.commands.append(checked)
        self._components(draft, type_chain)
        return draft

    def _components(self, draft: TwinDraft, chain: tuple[str, ...]) -> None:
        own_type = draft.effective.type_name
        chain = (*chain, own_type) if own_type else chain
        for comp_name, comp_layers in draft.effective.components.items():
            comp_path = comp_layers[-1].path
            if not self._check_id(comp_name, comp_path, "component"):
                continue
            comp_type = next((c.type_name for c in reversed(comp_layers) if c.type_name), None)
            if comp_type is not None and comp_type in chain:
                self.log.add((*comp_path, "type"), f"type '{comp_type}' contains itself")
                continue
            if len(chain) >= MAX_COMPONENT_DEPTH:
                self.log.add(comp_path, f"components nest deeper than {MAX_COMPONENT_DEPTH}")
                continue
            context = {**draft.context, "component": comp_name}
            self._add(
                f"{draft.id}.{comp_name}",
                TwinKind.COMPONENT,
                draft.id,
                comp_path,
                comp_layers,
                context,
                chain,
            )

    def _signal(self, draft: TwinDraft, name: str, loc: Located[SignalSpec]) -> None:
        key = f"{draft.id}/{name}"
        self.signal_paths[key] = loc.path
        draft.signals.append(key)
        if not self._check_id(name, loc.path, "signal"):
            self.broken.add(key)
            return
        checked = check_signal(key, draft.id, name, loc, self.log)
        if checked is None:
            self.broken.add(key)
            return
        definition, expression = checked
        self.signals[key] = definition
        if expression is not None:
            self.derived.append(PendingDerived(key, draft.id, loc, expression))
        if loc.value.window is not None:
            self.windows.append((key, draft.id, loc))
        if loc.value.health is not None:
            self.health.append((key, draft.id, loc))
        if loc.value.predict is not None:
            self.predict.append((key, draft.id, loc))
        if loc.value.rul is not None:
            self.rul.append((key, draft.id, loc))

    def _states(self, draft: TwinDraft, loc: Located[StatesSpec]) -> StateModel | None:
        spec, path = loc.value, loc.path
        states: list[StateDef] = []
        codes: dict[int, str] = {}
        for name, value in spec.values.items():
            where = (*path, "values", name)
            code = value if isinstance(value, int) else value.code
            category = None if isinstance(value, int) else value.category
            category = category or CATEGORY_BY_NAME.get(name)
            if category is None:
                known = ", ".join(c.value for c in StateCategory)
                self.log.add(where, f"state '{name}' needs a category (one of {known})")
                continue
            if code in codes:
                self.log.add(where, f"state code {code} is already used by '{codes[code]}'")
                continue
            codes[code] = name
            states.append(StateDef(name=name, code=code, category=category))
        if not states:
            self.log.add((*path, "values"), "a state model needs at least one state")
            return None
        key = f"{draft.id}/{spec.signal}"
        if key not in self.signals and key not in self.broken:
            # The state signal may be left undeclared: it is then an integer state code.
            self._signal(
                draft,
                spec.signal,
                Located(SignalSpec(unit="dimensionless", type=DataType.INT), (*path, "signal")),
            )
        return StateModel(signal=key, states=tuple(states))

    def _command(self, draft: TwinDraft, name: str, loc: Located[CommandSpec]) -> CommandDef | None:
        spec, path = loc.value, loc.path
        if not self._check_id(name, path, "command"):
            return None
        params: list[ParamDef] = []
        for param_name, param in spec.params.items():
            where = (*path, "params", param_name)
            if param.unit is not None:
                try:
                    parse_unit(param.unit)
                except UnitError as err:
                    self.log.add((*where, "unit"), str(err))
            if param.min is not None and param.max is not None and param.min > param.max:
                self.log.add(where, f"min {param.min:g} is above max {param.max:g}")
            if param.choices is not None and param.type != "str":
                self.log.add((*where, "choices"), "choices are for parameters of type str")
            params.append(
                ParamDef(
                    name=param_name,
                    dtype=str(param.type),
                    unit=param.unit,
                    low=param.min,
                    high=param.max,
                    choices=tuple(param.choices) if param.choices is not None else None,
                    default=param.default,
                    description=param.description,
                )
            )
        allowed = None
        if spec.allowed_states is not None:
            allowed = tuple(spec.allowed_states)
            known = {s.name for s in draft.states.states} if draft.states else set()
            for state in allowed:
                if state not in known:
                    shown = ", ".join(sorted(known)) or "this twin has no states"
                    self.log.add((*path, "allowed_states"), f"unknown state '{state}' ({shown})")
        return CommandDef(
            name=name,
            twin=draft.id,
            description=spec.description,
            params=tuple(params),
            allowed_states=allowed,
            critical=spec.critical,
            binding=None,  # resolved with the other bindings
        )

    def _timezone(self, site_id: str, zone: str, path: Path) -> None:
        try:
            zoneinfo.ZoneInfo(zone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            self.log.add((*path, "timezone"), f"unknown time zone '{zone}' (e.g. Asia/Seoul)")
            return
        self.timezones[site_id] = zone

    def _check_id(self, name: str, path: Path, what: str) -> bool:
        if ID_PATTERN.match(name):
            return True
        self.log.add(
            path,
            f"{what} name '{name}' must start with a letter and use only letters, digits, "
            "'_' and '-' (at most 64)",
        )
        return False

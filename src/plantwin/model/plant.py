"""The resolved plant model: the twin tree with every type expanded and every unit checked.

These frozen dataclasses are what the rest of plantwin sees; the YAML shapes in
:mod:`plantwin.model.schema` never leave the model package.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

from plantwin.model.expressions import Evaluator, Expression
from plantwin.model.schema import DataType, StateCategory

PropertyValue = str | int | float | bool | date

# Roll-up order: a parent shows the first category in this order found among itself and its
# children. Faults and planned stops need attention first; otherwise a line that produces
# anywhere is producing, even while one station waits for parts or changes a tool.
ROLLUP_ORDER: tuple[StateCategory, ...] = (
    StateCategory.FAULT,
    StateCategory.PLANNED,
    StateCategory.PRODUCTION,
    StateCategory.SETUP,
    StateCategory.IDLE,
    StateCategory.OFF,
)


class TwinKind(StrEnum):
    SITE = "site"
    LINE = "line"
    ASSET = "asset"
    COMPONENT = "component"


@dataclass(frozen=True, slots=True, kw_only=True)
class SignalDef:
    key: str  # "<twin id>/<name>", unique in the plant
    twin: str
    name: str
    unit: str  # as written in the plant file, accepted by pint
    symbol: str  # short display form
    dtype: DataType
    low: float | None
    high: float | None
    rate_hz: float | None
    counter: bool
    description: str
    derived: DerivedDef | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class DerivedDef:
    """An expression over other signals; ``inputs`` maps expression names to signal keys."""

    expression: Expression
    inputs: Mapping[str, str]
    constants: Mapping[str, float]
    evaluate: Evaluator = field(repr=False, compare=False)
    scale: float = 1.0
    shift: float = 0.0


@dataclass(frozen=True, slots=True, kw_only=True)
class StateDef:
    name: str
    code: int
    category: StateCategory


@dataclass(frozen=True, slots=True, kw_only=True)
class StateModel:
    signal: str  # key of the signal carrying the state code
    states: tuple[StateDef, ...]

    def by_code(self) -> dict[int, StateDef]:
        return {s.code: s for s in self.states}


@dataclass(frozen=True, slots=True, kw_only=True)
class ParamDef:
    name: str
    dtype: str
    unit: str | None
    low: float | None
    high: float | None
    choices: tuple[str, ...] | None
    default: PropertyValue | None
    description: str


@dataclass(frozen=True, slots=True, kw_only=True)
class BindingDef:
    """Connector address feeding a signal: ``value = a * raw + b`` in the signal's unit.

    ``a`` and ``b`` fold the binding's scale and offset and the source-to-signal unit
    conversion into one linear map, computed once when the plant file is loaded.
    """

    connector: str
    address: str
    signal: str  # signal key, or "<twin>#<command>" for command bindings
    scale: float
    offset: float
    source_unit: str
    a: float
    b: float


@dataclass(frozen=True, slots=True, kw_only=True)
class CommandDef:
    name: str
    twin: str
    description: str
    params: tuple[ParamDef, ...]
    allowed_states: tuple[str, ...] | None
    critical: bool
    binding: BindingDef | None


@dataclass(frozen=True, slots=True, kw_only=True)
class Twin:
    id: str
    kind: TwinKind
    name: str
    type: str | None
    parent: str | None
    children: tuple[str, ...]
    description: str
    properties: Mapping[str, PropertyValue]
    signals: tuple[str, ...]  # signal keys
    states: StateModel | None
    commands: tuple[CommandDef, ...]
    position: tuple[float, ...] | None


@dataclass(frozen=True, slots=True, kw_only=True)
class ConnectorDef:
    name: str
    kind: str
    description: str
    options: Mapping[str, object]
    source: str = ""  # plant file that declares it; relative paths in options start there


@dataclass(frozen=True, slots=True, kw_only=True)
class Plant:
    name: str
    description: str
    source: str  # file the plant was loaded from
    twins: Mapping[str, Twin]  # in tree order (depth first)
    signals: Mapping[str, SignalDef]  # in twin order
    bindings: tuple[BindingDef, ...]
    connectors: Mapping[str, ConnectorDef]
    timezones: Mapping[str, str]  # site id -> IANA zone

    def roots(self) -> list[Twin]:
        return [t for t in self.twins.values() if t.parent is None]

    def walk(self, twin_id: str) -> Iterator[Twin]:
        """The twin and all its descendants, depth first."""
        twin = self.twins[twin_id]
        yield twin
        for child in twin.children:
            yield from self.walk(child)

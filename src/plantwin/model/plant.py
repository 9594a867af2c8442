"""The resolved plant model: the twin tree with every type expanded and every unit checked.

These frozen dataclasses are what the rest of plantwin sees; the YAML shapes in
:mod:`plantwin.model.schema` never leave the model package.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, time
from enum import StrEnum

from plantwin.model.expressions import Evaluator, Expression
from plantwin.model.fmu_defs import FmuDef
from plantwin.model.schema import DataType, Priority, RuleKind, StateCategory, WindowFn

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
    window: WindowDef | None = None
    health: HealthDef | None = None
    predict: PredictDef | None = None
    rul: RulDef | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class RulDef:
    """Remaining useful life from registered model ``model`` over the condition indicator
    ``signal`` (a key), counted while ``running`` is above 0, predicted every ``every_ns``;
    ``low``/``high``/``version`` are the keys of the interval and model-version signals."""

    model: str
    signal: str
    running: str
    failure: float
    every_ns: int
    low: str | None = None
    high: str | None = None
    version: str | None = None

    @property
    def outputs(self) -> tuple[str, ...]:
        return tuple(k for k in (self.low, self.high, self.version) if k is not None)


@dataclass(frozen=True, slots=True, kw_only=True)
class HealthDef:
    """A health score from an anomaly detector over ``signals`` (keys), fitted on the first
    ``fit_ns`` of history and scored every ``every_ns``; with ``of`` (a health signal's key)
    the share of that detector's score carried by ``signals``. With ``healthy`` (input
    column, low, high in the signal's unit) only rows with low < value < high are fitted on."""

    signals: tuple[str, ...]
    detector: str = "pca"
    fit_ns: int = 0
    every_ns: int = 0
    of: str | None = None
    healthy: tuple[int, float, float] | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class PredictDef:
    """A registered model's output from the latest values of ``signals`` (keys), in that
    order, every ``every_ns``; ``version`` is the key of the model-version signal."""

    model: str
    signals: tuple[str, ...]
    every_ns: int
    version: str | None = None


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
class WindowDef:
    """A windowed aggregate of ``source`` (same unit): every ``every_ns`` over ``width_ns``."""

    source: str  # signal key
    fn: WindowFn
    width_ns: int
    every_ns: int


@dataclass(frozen=True, slots=True, kw_only=True)
class RuleDef:
    """A condition on a twin's signals or state, and how its alarm behaves.

    Limits are in the signal's unit (a rate rule's in signal unit per second, a relative
    deviation's in percent); a missing limit is None. Times are nanoseconds.
    """

    id: str  # "<twin id>:<rule name>", unique in the plant
    twin: str
    name: str
    kind: RuleKind
    description: str
    signal: str | None = None  # signal key
    reference: str | None = None  # signal key (deviation)
    relative: bool = False  # deviation in percent of the reference
    above: float | None = None
    below: float | None = None
    deadband: float = 0.0
    over_ns: int = 0  # rate window
    after_ns: int = 0  # stale after
    states: tuple[str, ...] = ()  # state rule: names of the twin's states
    when: Expression | None = None
    inputs: Mapping[str, str] = field(default_factory=dict)  # expression name -> rule id
    on_delay_ns: int = 0
    off_delay_ns: int = 0
    priority: Priority = Priority.MEDIUM
    message: str = ""
    alarm: bool = True
    latching: bool = False
    realarm_ns: int = 0  # ISA-18.2 / OPC UA ReAlarmTime; 0: never
    suppress_in: tuple[str, ...] = ()
    state_twin: str | None = None  # the twin whose state suppresses or drives the rule
    unit: str = ""  # display unit of the condition's value


@dataclass(frozen=True, slots=True, kw_only=True)
class NotificationDef:
    name: str
    url: str
    min_priority: Priority
    timeout: float
    retries: int


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
class ReportDef:
    """The signal on which the machine reports a command's value: ``signal = a * param + b``."""

    path: str  # as written, relative to the command's twin ("feed_override", "spindle.speed")
    signal: str  # signal key
    a: float  # parameter unit -> signal unit
    b: float
    tolerance: float  # in the signal's unit


@dataclass(frozen=True, slots=True, kw_only=True)
class InterlockDef:
    """A condition over the twin's latest values that blocks a command while true."""

    when: str  # the expression as written
    message: str
    inputs: Mapping[str, str] = field(default_factory=dict)  # expression name -> signal key
    constants: Mapping[str, float] = field(default_factory=dict)  # numeric properties
    expression: Expression | None = field(default=None, compare=False, repr=False)


DEFAULT_COMMAND_TIMEOUT_NS = 60 * 1_000_000_000


@dataclass(frozen=True, slots=True, kw_only=True)
class CommandDef:
    name: str
    twin: str
    description: str
    params: tuple[ParamDef, ...]
    allowed_states: tuple[str, ...] | None
    critical: bool
    binding: BindingDef | None
    reports: ReportDef | None = None
    timeout_ns: int = DEFAULT_COMMAND_TIMEOUT_NS  # plant time to wait for the report
    interlocks: tuple[InterlockDef, ...] = ()


class MtbfDivisor(StrEnum):
    """Divisor of MTBF: ISO 22400-2 divides by the failure events; some renderings by FE + 1."""

    FAILURES = "failures"
    FAILURES_PLUS_ONE = "failures_plus_one"


@dataclass(frozen=True, slots=True, kw_only=True)
class KpiDef:
    """ISO 22400 KPI settings of one twin: counter signal keys and the planned cycle (PRU).

    Assets give their own counters; a line may name an ``output`` asset whose quantities are
    the line's. Without ``good``/``scrap`` counters every produced part counts as good
    (GQ = PQ); without a ``produced`` counter PQ = GQ + SQ + RQ.
    """

    produced: str | None = None  # signal keys of counters
    good: str | None = None
    scrap: str | None = None
    rework: str | None = None
    energy: str | None = None
    energy_to_kwh: float = 1.0  # the energy counter's unit -> kWh
    ideal_cycle_s: float | None = None  # PRU
    minor_stop_s: float = 0.0  # 0: strict ISO (every stop is a loss of availability)
    mtbf_divisor: MtbfDivisor = MtbfDivisor.FAILURES
    output: str | None = None  # lines: twin id of the asset giving the line's quantities


@dataclass(frozen=True, slots=True, kw_only=True)
class ShiftDef:
    """A shift in local time; ``end`` at or before ``start`` means it ends the next day."""

    name: str
    start: time
    end: time
    days: frozenset[int]  # weekdays it starts on, Monday = 0
    breaks: tuple[tuple[time, time], ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Calendar:
    """A site's shift calendar; no shifts means planned around the clock."""

    zone: str  # IANA time zone
    shifts: tuple[ShiftDef, ...] = ()


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
    rules: tuple[RuleDef, ...] = ()
    kpi: KpiDef | None = None


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
    notifications: Mapping[str, NotificationDef] = field(default_factory=dict)

    def rules(self) -> Iterator[RuleDef]:
        for twin in self.twins.values():
            yield from twin.rules

    calendars: Mapping[str, Calendar] = field(default_factory=dict)  # site id -> shifts
    fmus: Mapping[str, FmuDef] = field(default_factory=dict)  # co-simulated FMUs by name

    def calendar(self, twin_id: str) -> Calendar:
        """The shift calendar of the site a twin belongs to (24/7 in UTC if unknown)."""
        site = twin_id.split(".", 1)[0]
        found = self.calendars.get(site)
        return found if found is not None else Calendar(zone=self.timezones.get(site, "UTC"))

    def roots(self) -> list[Twin]:
        return [t for t in self.twins.values() if t.parent is None]

    def walk(self, twin_id: str) -> Iterator[Twin]:
        """The twin and all its descendants, depth first."""
        twin = self.twins[twin_id]
        yield twin
        for child in twin.children:
            yield from self.walk(child)

"""The plant file's shape, as pydantic models (the edge where YAML becomes typed data).

Only structure is checked here (field names, types, required keys); meaning (units,
references, expressions) is checked by :mod:`plantwin.model.loader`, which reports both kinds of
problem together with file and line.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Scalar = str | int | float | bool | date


class Spec(BaseModel):
    # NaN or infinite numbers in a plant file are always mistakes (ranges, scales, limits).
    model_config = ConfigDict(extra="forbid", frozen=True, strict=False, allow_inf_nan=False)


class DataType(StrEnum):
    FLOAT = "float"
    INT = "int"
    BOOL = "bool"


class StateCategory(StrEnum):
    """How a state counts in ISO 22400 time elements (see docs/plant-file.md)."""

    PRODUCTION = "production"  # APT: value-adding run time
    SETUP = "setup"  # AUST: changeover, order preparation
    IDLE = "idle"  # ADOT: available but starved, blocked or without order
    FAULT = "fault"  # ADET: malfunction, unplanned stop
    PLANNED = "planned"  # PDOT: planned maintenance, breaks
    OFF = "off"  # outside planned operation time


class WindowFn(StrEnum):
    MEAN = "mean"
    MIN = "min"
    MAX = "max"
    RMS = "rms"
    STD = "std"
    SUM = "sum"
    COUNT = "count"
    LAST = "last"


class WindowSpec(Spec):
    """A windowed aggregate of another signal of the twin; tumbling unless ``every`` < width."""

    signal: str
    fn: WindowFn
    width: str | float = Field(description="window length: '1 min' or seconds")
    every: str | float | None = Field(default=None, description="output period; default width")


class HealthyWhenSpec(Spec):
    """The rows of the healthy period a detector is fitted on: those where ``signal`` (one of
    the health signal's inputs) is below and/or above a limit, e.g. a tool's wear below 0.2 mm."""

    signal: str = Field(description="one of the health signal's signals: 'tool.wear'")
    below: str | float | None = Field(default=None, description="healthy below: '0.2 mm'")
    above: str | float | None = Field(default=None, description="healthy above")


class HealthSpec(Spec):
    """A health score 0-100 computed by an anomaly detector over signals of the twin.

    With ``of``: the share of another health signal's score carried by ``signals`` (a
    component's health), with no detector of its own.
    """

    signals: list[str] = Field(
        description="signals of the twin or its components: 'spindle.vibration'"
    )
    detector: Literal["pca", "pca-ewma", "mewma", "iforest", "iforest-ewma"] | None = Field(
        default=None,
        description="pca (default), mewma (multivariate EWMA), iforest; -ewma: smoothed rows",
    )
    fit: str | float | None = Field(
        default=None, description="healthy period: the first '8 h' of history"
    )
    every: str | float | None = Field(default=None, description="scoring period, default 10 s")
    of: str | None = Field(default=None, description="the health signal this one is a part of")
    healthy_when: HealthyWhenSpec | None = Field(
        default=None, description="only rows of the fit period meeting this are fitted on"
    )


class PredictSpec(Spec):
    """A trained model's prediction over signals of the twin (a scrap probability in percent).

    The model is the newest registered version of ``model`` in the store's model registry;
    its features are ``signals``, in this order, as the model was trained.
    """

    model: str = Field(description="registered model name: 'scrap_probability'")
    signals: list[str] = Field(description="feature signals of the twin or its parts, in order")
    every: str | float | None = Field(default=None, description="prediction period, default 10 s")
    version: str | None = Field(
        default=None, description="signal of this twin for the model version behind each value"
    )


class RulSpec(Spec):
    """Remaining useful life (hours) predicted by a registered model from a condition signal.

    This signal gets the point prediction; ``low``, ``high`` and ``version`` name signals of
    the same twin that get the interval bounds and the model version that made each value.
    """

    model: str = Field(description="registered model name ('plantwin models list')")
    signal: str = Field(description="the condition indicator: 'vibration', 'spindle.vibration'")
    running: str = Field(description="counts only while this signal is above 0: 'speed'")
    failure: float = Field(description="functional failure level, in the indicator's unit")
    every: str | float | None = Field(default=None, description="prediction period, 5 min")
    low: str | None = Field(default=None, description="signal for the lower bound (0.1)")
    high: str | None = Field(default=None, description="signal for the upper bound (0.9)")
    version: str | None = Field(default=None, description="signal for the model version")


class SignalSpec(Spec):
    unit: str
    type: DataType = DataType.FLOAT
    range: tuple[float, float] | None = None
    rate: str | float | None = Field(default=None, description="nominal rate: '1 Hz' or '10 s'")
    expr: str | None = None
    window: WindowSpec | None = None
    health: HealthSpec | None = None
    predict: PredictSpec | None = None
    rul: RulSpec | None = None
    counter: bool = False
    description: str = ""


class StateSpec(Spec):
    code: int
    category: StateCategory | None = None


class StatesSpec(Spec):
    signal: str = "state"
    values: dict[str, int | StateSpec]


class RuleKind(StrEnum):
    THRESHOLD = "threshold"  # above and/or below a limit, with deadband (hysteresis)
    RANGE = "range"  # outside [below, above] or the signal's declared range
    RATE = "rate"  # change per time over a window, above/below a limit
    DEVIATION = "deviation"  # signal minus a reference signal, absolute or in percent
    STALE = "stale"  # no sample for longer than ``after``
    STATE = "state"  # the twin in one of some states (for longer than ``longer_than``)
    EXPRESSION = "expression"  # and/or/not over other rules of the twin and its components


class Priority(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


Amount = str | float  # a number in the signal's unit, or a quantity such as '4.5 mm/s'


class RuleSpec(Spec):
    kind: RuleKind
    description: str = ""
    signal: str | None = None
    above: Amount | None = None
    below: Amount | None = None
    deadband: Amount | None = Field(default=None, description="'2 %' of span, or an amount")
    reference: str | None = None
    over: str | float | None = Field(default=None, description="rate window, default 1 min")
    after: str | float | None = None
    states: list[str] | None = None
    longer_than: str | float | None = None
    when: str | None = None
    on_delay: str | float | None = None
    off_delay: str | float | None = None
    priority: Priority = Priority.MEDIUM
    message: str | None = None
    alarm: bool = Field(default=True, description="false: a condition for other rules only")
    latching: bool = False
    realarm: str | float | None = Field(
        default=None, description="an alarm acknowledged but still active sounds again after this"
    )
    suppress_in: list[str] | None = Field(
        default=None, description="states of the twin (or its asset) that suppress the alarm"
    )
    enabled: bool = True


class BindingSpec(Spec):
    connector: str
    address: str
    scale: float = 1.0
    offset: float = 0.0
    unit: str | None = None


class ParamSpec(Spec):
    type: DataType | Literal["str"] = DataType.FLOAT
    unit: str | None = None
    min: float | None = None
    max: float | None = None
    choices: list[str] | None = None
    default: Scalar | None = None
    description: str = ""


class InterlockSpec(Spec):
    """A condition over the twin's signals that blocks the command while it is true."""

    when: str = Field(description="expression over the twin's signals, e.g. 'spindle.speed > 100'")
    message: str = ""


class CommandSpec(Spec):
    description: str = ""
    params: dict[str, ParamSpec] = Field(default_factory=dict)
    allowed_states: list[str] | None = None
    critical: bool = False
    binding: BindingSpec | None = None
    reports: str | None = Field(
        default=None, description="signal showing the value the machine took (acknowledgement)"
    )
    tolerance: Amount | None = Field(
        default=None, description="how close the report must come: an amount in its unit"
    )
    timeout: str | float | None = Field(
        default=None, description="plant time to wait for the report, default 60 s"
    )
    interlocks: list[InterlockSpec] = Field(default_factory=list)


class BreakSpec(Spec):
    start: str = Field(description="local time 'HH:MM'")
    end: str


class ShiftSpec(Spec):
    """A shift of the site's calendar, in the site's local time; it may cross midnight."""

    start: str = Field(description="local time 'HH:MM'")
    end: str = Field(description="local time 'HH:MM'; at or before start: the next day")
    days: list[str] | None = Field(default=None, description="mon..sun it starts on; all if absent")
    breaks: list[BreakSpec] = Field(default_factory=list)


class KpiSpec(Spec):
    """ISO 22400 KPI settings of an asset (or its type); see docs/plant-file.md."""

    produced: str | None = None  # counter signals: PQ, GQ, SQ, RQ, energy
    good: str | None = None
    scrap: str | None = None
    rework: str | None = None
    energy: str | None = None
    ideal_cycle_time: str | float | None = Field(default=None, description="PRU, e.g. '52 s'")
    minor_stop: str | float | None = Field(default=None, description="0 s: strict ISO 22400")
    mtbf_divisor: Literal["failures", "failures_plus_one"] | None = None


class LineKpiSpec(Spec):
    output: str = Field(description="asset whose produced, good, scrap and rework are the line's")


class ComponentSpec(Spec):
    """A component placed in a type or a twin: its type, and what differs for this one."""

    type: str | None = None
    name: str | None = None
    description: str = ""
    properties: dict[str, Scalar] = Field(default_factory=dict)
    signals: dict[str, SignalSpec] = Field(default_factory=dict)
    rules: dict[str, RuleSpec] = Field(default_factory=dict)
    bindings: dict[str, BindingSpec] = Field(default_factory=dict)
    components: dict[str, ComponentSpec] = Field(default_factory=dict)


class TypeSpec(Spec):
    kind: Literal["asset", "component"] = "asset"
    description: str = ""
    properties: dict[str, Scalar] = Field(default_factory=dict)
    signals: dict[str, SignalSpec] = Field(default_factory=dict)
    states: StatesSpec | None = None
    commands: dict[str, CommandSpec] = Field(default_factory=dict)
    components: dict[str, ComponentSpec] = Field(default_factory=dict)
    rules: dict[str, RuleSpec] = Field(default_factory=dict)
    bindings: dict[str, BindingSpec] = Field(default_factory=dict)
    kpi: KpiSpec | None = None


class AssetSpec(ComponentSpec):
    position: tuple[float, float] | tuple[float, float, float] | None = None
    kpi: KpiSpec | None = None


class LineSpec(Spec):
    name: str | None = None
    description: str = ""
    properties: dict[str, Scalar] = Field(default_factory=dict)
    signals: dict[str, SignalSpec] = Field(default_factory=dict)
    rules: dict[str, RuleSpec] = Field(default_factory=dict)
    bindings: dict[str, BindingSpec] = Field(default_factory=dict)
    assets: dict[str, AssetSpec] = Field(default_factory=dict)
    position: tuple[float, float] | tuple[float, float, float] | None = None
    kpi: LineKpiSpec | None = None


class SiteSpec(Spec):
    name: str | None = None
    description: str = ""
    timezone: str = "UTC"
    shifts: dict[str, ShiftSpec] | None = None  # shift calendar; none: planned 24/7
    properties: dict[str, Scalar] = Field(default_factory=dict)
    signals: dict[str, SignalSpec] = Field(default_factory=dict)
    rules: dict[str, RuleSpec] = Field(default_factory=dict)
    bindings: dict[str, BindingSpec] = Field(default_factory=dict)
    assets: dict[str, AssetSpec] = Field(default_factory=dict)
    lines: dict[str, LineSpec] = Field(default_factory=dict)


class ConnectorSpec(Spec):
    model_config = ConfigDict(extra="allow", frozen=True)  # options belong to the connector
    kind: str
    description: str = ""


class NotificationSpec(Spec):
    """A webhook that receives alarm transitions as JSON POSTs."""

    url: str
    min_priority: Priority = Priority.LOW
    timeout: float = Field(default=5.0, gt=0)
    retries: int = Field(default=5, ge=0, le=20)
    description: str = ""


class FmuOutputSpec(Spec):
    """A new signal of the twin carrying an FMU output."""

    signal: str
    unit: str | None = Field(default=None, description="default: the FMU variable's unit")
    range: tuple[float, float] | None = None
    description: str = ""


class ResidualSpec(Spec):
    """A new signal: measured minus model (an FMU output signal), in the model's unit."""

    measured: str
    model: str
    unit: str | None = Field(default=None, description="default: the model signal's unit")
    range: tuple[float, float] | None = None
    description: str = ""


class FmuSpec(Spec):
    """An FMU (FMI 2.0/3.0 co-simulation) stepped with the stream of one twin's signals."""

    twin: str = Field(description="twin id the FMU belongs to; signal names are relative to it")
    file: str = Field(description="the .fmu file, relative to the plant file")
    step: str | float = Field(description="communication step: '1 s' or seconds")
    inputs: dict[str, str] = Field(default_factory=dict, description="FMU variable: signal")
    outputs: dict[str, str | FmuOutputSpec] = Field(default_factory=dict)
    parameters: dict[str, str | float] = Field(
        default_factory=dict, description="FMU variable: number or quantity ('2 min')"
    )
    initial: dict[str, str] = Field(
        default_factory=dict, description="FMU variable: signal whose value starts the model"
    )
    residuals: dict[str, ResidualSpec] = Field(default_factory=dict)
    description: str = ""


class PlantFileSpec(Spec):
    plantwin: Literal[1] = Field(description="plant file format version")
    name: str
    description: str = ""
    connectors: dict[str, ConnectorSpec] = Field(default_factory=dict)
    notifications: dict[str, NotificationSpec] = Field(default_factory=dict)
    types: dict[str, TypeSpec] = Field(default_factory=dict)
    sites: dict[str, SiteSpec]
    fmus: dict[str, FmuSpec] = Field(default_factory=dict)

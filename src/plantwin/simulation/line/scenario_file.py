"""The shapes of a scenario file (pydantic: the file is an edge), see scenario.py."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from plantwin.model.units import duration_ns
from plantwin.simulation.line.compare import KNOWN_KPIS
from plantwin.simulation.line.distributions import (
    Distribution,
    Exponential,
    Fixed,
    LogNormal,
    Weibull,
)
from plantwin.simulation.line.spec import PolicyKind

DEFAULT_KPIS = ("throughput_per_h", "oee", "wip", "lead_time_min", "utilisation", "bottleneck")


def seconds(value: str | float) -> float:
    return duration_ns(value) / 1e9


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DistributionModel(_Model):
    dist: Literal["fixed", "exponential", "weibull", "lognormal"]
    mean: str | float | None = None
    value: str | float | None = None
    shape: float | None = Field(default=None, gt=0)
    sigma: float | None = Field(default=None, ge=0)

    def build(self) -> Distribution:
        if self.dist == "fixed":
            return Fixed(value=seconds(_need(self.value, "value")))
        mean = seconds(_need(self.mean, "mean"))
        if self.dist == "exponential":
            return Exponential(mean=mean)
        if self.dist == "weibull":
            return Weibull.from_mean(mean, _need(self.shape, "shape"))
        return LogNormal(mean=mean, sigma=_need(self.sigma, "sigma"))


def _need(value: Any, name: str) -> Any:
    if value is None:
        msg = f"this distribution needs '{name}'"
        raise ValueError(msg)
    return value


def distribution(value: DistributionModel | str | float) -> Distribution:
    """A distribution, or a plain duration meaning always that long."""
    if isinstance(value, DistributionModel):
        return value.build()
    return Fixed(value=seconds(value))


class FailureModel(_Model):
    between: DistributionModel | str | float
    repair: DistributionModel | str | float


class StationChange(_Model):
    machines: int | None = Field(default=None, ge=1)
    cycle: DistributionModel | str | float | None = None
    cycle_factor: float | None = Field(default=None, gt=0)
    failures: list[FailureModel] | None = None
    mtbf_factor: float | None = Field(default=None, gt=0)  # scales times between failures
    mttr_factor: float | None = Field(default=None, gt=0)  # scales repairs
    scrap: float | None = Field(default=None, ge=0, lt=1)
    rework: float | None = Field(default=None, ge=0, lt=1)


class MaintenanceModel(_Model):
    policy: PolicyKind
    interval: str | float | None = None  # fixed_interval: operating time between changes
    lead: str | float = 0.0  # condition: from the alarm to the planned stop
    rul_error: float = Field(default=0.0, ge=0)
    margin: str | float = 0.0


class CostModel(_Model):
    corrective: float = Field(default=0.0, ge=0)
    preventive: float = Field(default=0.0, ge=0)
    spare_part: float = Field(default=0.0, ge=0)
    downtime_per_h: float = Field(default=0.0, ge=0)


class ChangeModel(_Model):
    stations: dict[str, StationChange] = Field(default_factory=dict)
    buffers: dict[str, int | None] = Field(default_factory=dict)  # station -> buffer after it
    shifts: list[tuple[str, str, str]] | None = None  # (days "Mon-Fri", start, end)
    maintenance: MaintenanceModel | None = None
    costs: CostModel | None = None


class ScenarioFile(_Model):
    plant: str | None = None  # required for files; the API uses the running plant
    line: str | None = None
    demo_settings: bool = True
    horizon: str | float = "30 d"
    warmup: str | float = "1 d"
    replications: int = Field(default=10, ge=2)
    seed: int = 1
    kpis: list[str] = Field(default_factory=lambda: list(DEFAULT_KPIS))
    costs: CostModel = CostModel()
    maintenance: MaintenanceModel | None = None
    scenarios: dict[str, ChangeModel]

    @field_validator("kpis")
    @classmethod
    def _known(cls, value: list[str]) -> list[str]:
        unknown = [k for k in value if k not in KNOWN_KPIS]
        if unknown:
            msg = f"unknown KPI(s) {', '.join(unknown)}; choose from {', '.join(KNOWN_KPIS)}"
            raise ValueError(msg)
        return value

    @field_validator("scenarios")
    @classmethod
    def _some(cls, value: dict[str, ChangeModel]) -> dict[str, ChangeModel]:
        if not value:
            msg = "list at least one scenario (e.g. 'baseline: {}')"
            raise ValueError(msg)
        return value

"""Response schemas of the KPI route (pydantic, so they appear in /openapi.json)."""

from __future__ import annotations

from pydantic import BaseModel, Field


class KpiValuesOut(BaseModel):
    """ISO 22400-2 KPIs of one period; null where not defined (no parts, no failures ...)."""

    availability: float | None = Field(description="APT / PBT")
    effectiveness: float | None = Field(
        description="PRU x PQ / APT; never clamped: above 1 means PRU is set too long (flagged)"
    )
    quality: float | None = Field(description="GQ / PQ (lines, sites: PRU-weighted)")
    oee: float | None = Field(description="availability x effectiveness x quality = PRU x GQ / PBT")
    nee: float | None = Field(description="AUPT / PBT x effectiveness x quality (setup not a loss)")
    technical_efficiency: float | None = Field(description="APT / (APT + ADET)")
    mtbf_h: float | None = Field(description="operating time (APT + AUST) per failure, hours")
    mttr_h: float | None = Field(description="delay time (ADET) per failure, hours")
    throughput_per_h: float | None = Field(description="PQ / AOET, parts per hour")
    scrap_ratio: float | None = Field(description="SQ / PQ")
    rework_ratio: float | None = Field(description="RQ / PQ")
    cycle_time_s: float | None = Field(description="actual mean cycle time APT / PQ (assets)")
    energy_per_good_kwh: float | None = Field(description="energy / GQ, kWh per good part")


class KpiInputsOut(BaseModel):
    """What the KPIs were computed from: time elements in seconds, quantities in parts."""

    pot_s: float | None = Field(None, description="planned operation time")
    pdot_s: float | None = Field(None, description="planned down time: breaks, planned states")
    pbt_s: float | None = Field(None, description="planned busy time = APT + AUST + ADET + ADOT")
    apt_s: float | None = Field(None, description="actual production time")
    aust_s: float | None = Field(None, description="actual unit setup time")
    adet_s: float | None = Field(None, description="actual unit delay time (faults)")
    adot_s: float | None = Field(None, description="actual unit down time (idle)")
    unknown_s: float | None = Field(None, description="time without a known state")
    minor_stop_s: float | None = Field(None, description="short stops counted as run time")
    failures: float | None = Field(None, description="failure events FE")
    mtbf_extra: float | None = Field(None, description="units dividing MTBF by FE + 1")
    planned_s: float | None = Field(None, description="calendar time less breaks")
    aoet_s: float | None = Field(None, description="actual order execution time")
    pq: float | None = Field(None, description="produced quantity (includes scrap and rework)")
    gq: float | None = Field(None, description="good quantity")
    sq: float | None = Field(None, description="scrap quantity")
    rq: float | None = Field(None, description="rework quantity")
    pru_s: float | None = Field(None, description="planned run time per unit")
    pru_pq_s: float | None = Field(None, description="sum of PRU x PQ")
    pru_gq_s: float | None = Field(None, description="sum of PRU x GQ")
    energy_kwh: float | None = Field(None, description="energy used")


class KpiPeriodOut(BaseModel):
    label: str = Field(description="'2026-11-27 A' for a shift, '2026-11-27' for a day, else ''")
    start: str
    end: str
    final: bool = Field(description="computed after the period ended (stored when a shift/day)")
    computed: str = Field(description="plant time of the computation; open periods end there")
    values: KpiValuesOut
    inputs: KpiInputsOut
    flags: list[str] = Field(description="data-quality notes, e.g. effectiveness above 1")


class KpisOut(BaseModel):
    scope: str
    name: str
    kind: str
    every: str | None = Field(
        description="'shift', 'day', a bucket width (PT1H) or null: one window"
    )
    timezone: str = Field(description="the site's zone, in which shifts and days are defined")
    start: str
    end: str
    periods: list[KpiPeriodOut]

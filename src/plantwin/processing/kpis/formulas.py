"""ISO 22400-2 KPI formulas over the inputs a record keeps, for assets and for groups.

Inputs (all stored with the record, so every number can be traced):

========================  ====================================================================
``pot_s``                 planned operation time: shift time, less time the unit was off
``pdot_s``                planned down time: breaks and planned states (maintenance)
``pbt_s``                 planned busy time = apt + aust + adet + adot
``apt_s aust_s``          actual production time, actual unit setup time
``adet_s adot_s``         actual unit delay time (faults), actual unit down time (idle)
``unknown_s``             time without a known state (not counted in PBT)
``minor_stop_s``          short stops counted as production time (threshold > 0)
``failures``              failure events FE; ``mtbf_extra`` 1 per unit dividing by FE + 1
``planned_s``             calendar time less breaks in the window (not summed over units)
``pq gq sq rq``           produced, good, scrap, rework quantities
``pru_s``                 planned run time per unit (assets)
``pru_pq_s pru_gq_s``     sum of PRU x PQ and PRU x GQ (planned time of the parts)
``energy_kwh aoet_s``     energy used; actual order execution time (= PBT of the unit)
========================  ====================================================================

Groups (lines, sites) add up their assets' time elements, failures, PRU x PQ, PRU x GQ and
energy, so A = sum APT / sum PBT, E = sum PRU*PQ / sum APT, Q = sum PRU*GQ / sum PRU*PQ and
OEE = sum PRU*GQ / sum PBT = A x E x Q (each machine weighted by its planned busy time and
the planned time of its parts). A line's parts (pq, gq, sq, rq, aoet) are those of its
``output`` asset; a site's parts are the sum of its lines', over the site's planned time.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from plantwin.core.kpis import KpiValue
from plantwin.model.plant import MtbfDivisor
from plantwin.processing.kpis.timeline import TimeElements

KPI_NAMES = (
    "availability",
    "effectiveness",
    "quality",
    "oee",
    "nee",
    "technical_efficiency",
    "mtbf_h",
    "mttr_h",
    "throughput_per_h",
    "scrap_ratio",
    "rework_ratio",
    "cycle_time_s",
    "energy_per_good_kwh",
)

# Inputs a group adds up over its assets.
SUMMED = (
    "pot_s",
    "pdot_s",
    "pbt_s",
    "apt_s",
    "aust_s",
    "adet_s",
    "adot_s",
    "unknown_s",
    "minor_stop_s",
    "failures",
    "mtbf_extra",
    "pru_pq_s",
    "pru_gq_s",
    "energy_kwh",
)
QUANTITIES = ("pq", "gq", "sq", "rq")

# Data-quality flags
EFFECTIVENESS_ABOVE_1 = (
    "effectiveness above 1: the planned cycle time (PRU) is longer than the real one"
)
STATE_UNKNOWN = "state unknown for part of the period (not counted in PBT)"
GOOD_ASSUMED = "no good, scrap or rework counter: every produced part counts as good (GQ = PQ)"
COUNTER_RESET = "a counter was reset during the period (counted from zero after it)"
NO_BASELINE = (
    "a counter has no sample before the period: what it counted before its first sample is missing"
)


def asset_inputs(
    te: TimeElements,
    *,
    planned_s: float,
    quantities: Mapping[str, float],
    pru_s: float | None,
    divisor: MtbfDivisor,
    energy_kwh: float | None,
) -> dict[str, float]:
    """The inputs of one asset's record."""
    inputs: dict[str, float] = {
        "pot_s": te.pot,
        "pdot_s": te.pdot,
        "pbt_s": te.pbt,
        "apt_s": te.apt,
        "aust_s": te.aust,
        "adet_s": te.adet,
        "adot_s": te.adot,
        "unknown_s": te.unknown,
        "minor_stop_s": te.minor_stops,
        "failures": float(te.failures),
        "mtbf_extra": 1.0 if divisor is MtbfDivisor.FAILURES_PLUS_ONE else 0.0,
        "planned_s": planned_s,
        "aoet_s": te.pbt,
        **quantities,
    }
    if energy_kwh is not None:
        inputs["energy_kwh"] = energy_kwh
    if pru_s is not None:
        inputs["pru_s"] = pru_s
        if "pq" in quantities:
            inputs["pru_pq_s"] = pru_s * quantities["pq"]
            inputs["pru_gq_s"] = pru_s * quantities["gq"]
    return inputs


def group_inputs(
    members: Sequence[Mapping[str, float]],
    *,
    planned_s: float,
    output: Mapping[str, float] | None,
    lines: Sequence[Mapping[str, float]] = (),
) -> dict[str, float]:
    """A line's or site's inputs from its assets' (``members``).

    ``output``: the line's output asset; ``lines``: a site's lines, whose parts add up.
    """
    inputs: dict[str, float] = {"planned_s": planned_s}
    for name in SUMMED:
        found = [m[name] for m in members if name in m]
        if found:
            inputs[name] = sum(found)
    if output is not None:
        for name in (*QUANTITIES, "aoet_s"):
            if name in output:
                inputs[name] = output[name]
    elif lines:
        with_parts = [line for line in lines if "pq" in line]
        for name in QUANTITIES:
            if with_parts:
                inputs[name] = sum(line[name] for line in with_parts)
        if with_parts:
            inputs["aoet_s"] = planned_s
    return inputs


def _ratio(num: float | None, den: float | None) -> KpiValue:
    if num is None or den is None or den <= 0:
        return None
    return num / den


def kpi_values(inputs: Mapping[str, float], *, asset: bool) -> dict[str, KpiValue]:
    """Every KPI of ``KPI_NAMES`` from a record's inputs; None where it is not defined."""
    g = inputs.get
    apt, aust, adet, pbt = g("apt_s", 0.0), g("aust_s", 0.0), g("adet_s", 0.0), g("pbt_s", 0.0)
    pru_pq, pru_gq = g("pru_pq_s"), g("pru_gq_s")
    fe = g("failures", 0.0)
    availability = _ratio(apt, pbt)
    effectiveness = _ratio(pru_pq, apt)
    quality = _ratio(pru_gq, pru_pq) if pru_pq else _ratio(g("gq"), g("pq"))
    aupt_share = _ratio(apt + aust, pbt)
    nee = None
    if aupt_share is not None and effectiveness is not None and quality is not None:
        nee = aupt_share * effectiveness * quality
    return {
        "availability": availability,
        "effectiveness": effectiveness,
        "quality": quality,
        "oee": _ratio(pru_gq, pbt),
        "nee": nee,
        "technical_efficiency": _ratio(apt, apt + adet),
        "mtbf_h": _ratio((apt + aust) / 3600.0, fe + g("mtbf_extra", 0.0)),
        "mttr_h": _ratio(adet / 3600.0, fe),
        "throughput_per_h": _ratio(g("pq"), _hours(g("aoet_s"))),
        "scrap_ratio": _ratio(g("sq"), g("pq")),
        "rework_ratio": _ratio(g("rq"), g("pq")),
        "cycle_time_s": _ratio(apt, g("pq")) if asset else None,
        "energy_per_good_kwh": _ratio(g("energy_kwh"), g("gq")),
    }


def _hours(seconds: float | None) -> float | None:
    return None if seconds is None else seconds / 3600.0


def quality_flags(values: Mapping[str, KpiValue], inputs: Mapping[str, float]) -> list[str]:
    """Flags that follow from the numbers themselves (others come from reading the data)."""
    flags: list[str] = []
    effectiveness = values.get("effectiveness")
    if effectiveness is not None and effectiveness > 1.0:
        flags.append(EFFECTIVENESS_ABOVE_1)
    if inputs.get("unknown_s", 0.0) > 0.0:
        flags.append(STATE_UNKNOWN)
    return flags

"""Side-by-side comparison of scenarios: one row per KPI, one column per scenario.

Each cell is the mean over replications with its 95 % confidence half-width; scenarios
after the first also show the paired difference to the first (same seeds, so the
difference is measured far more precisely than either mean).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from plantwin.simulation.line.replications import Estimate, Summary, difference

LABELS = {
    "throughput_per_h": ("Throughput (parts/h)", 1),
    "output": ("Output (parts)", 0),
    "oee": ("OEE, line", 3),
    "wip": ("WIP (parts)", 2),
    "lead_time_min": ("Lead time (min)", 1),
    "downtime_h": ("Downtime (machine h)", 1),
    "spare_parts": ("Spare parts", 1),
    "maintenance_cost": ("Maintenance cost", 0),
}
PER_STATION = {
    "utilisation": ("Utilisation", 3),
    "oee_station": ("OEE", 3),
    "failures": ("Failures", 1),
}

KNOWN_KPIS = (*LABELS, *PER_STATION, "bottleneck")


@dataclass(frozen=True, slots=True, kw_only=True)
class Row:
    label: str
    key: str
    cells: tuple[str, ...]
    estimates: tuple[Estimate | None, ...]  # None: the bottleneck row


def fmt(e: Estimate, digits: int, *, signed: bool = False) -> str:
    if math.isnan(e.mean):
        return "-"
    sign = "+" if signed else ""
    return f"{e.mean:{sign},.{digits}f} ± {e.half_width:,.{digits}f}"


def rows(summaries: list[Summary], kpis: tuple[str, ...]) -> list[Row]:
    """Rows of the comparison table for the requested KPIs, in the requested order."""
    out: list[Row] = []
    stations = [s.name for s in summaries[0].runs[0].stations]
    for kpi in kpis:
        if kpi == "bottleneck":
            out.append(_bottleneck_row(summaries))
            continue
        if kpi in PER_STATION:
            label, digits = PER_STATION[kpi]
            prefix = "oee" if kpi == "oee_station" else kpi
            for name in stations:
                out.append(_row(summaries, f"{prefix}[{name}]", f"{label} {name}", digits))
            continue
        if kpi not in LABELS:
            known = ", ".join(KNOWN_KPIS)
            msg = f"unknown KPI {kpi!r}; choose from {known}"
            raise ValueError(msg)
        label, digits = LABELS[kpi]
        out.append(_row(summaries, kpi, label, digits))
    return out


def _row(summaries: list[Summary], key: str, label: str, digits: int) -> Row:
    base = summaries[0]
    cells: list[str] = []
    estimates: list[Estimate | None] = []
    for i, s in enumerate(summaries):
        e = s.kpis.get(key)
        if e is None:
            cells.append("-")
            estimates.append(None)
            continue
        text = fmt(e, digits)
        if i > 0:
            text += f"\nΔ {fmt(difference(s, base, key), digits, signed=True)}"
        cells.append(text)
        estimates.append(e)
    return Row(label=label, key=key, cells=tuple(cells), estimates=tuple(estimates))


def _bottleneck_row(summaries: list[Summary]) -> Row:
    cells = []
    for s in summaries:
        name = s.bottleneck
        share = s.kpis.get(f"bottleneck_share[{name}]")
        times = f"{s.bottlenecks[name]}/{len(s.runs)} runs"
        cells.append(f"{name} ({times}, {share.mean:.0%} of time)" if share else name)
    return Row(
        label="Bottleneck (active period)",
        key="bottleneck",
        cells=tuple(cells),
        estimates=(None,) * len(summaries),
    )

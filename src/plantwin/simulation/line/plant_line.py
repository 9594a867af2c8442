"""Build the line model of a line in the plant file.

The line's assets are read in plant-file order: an asset with a ``capacity`` property is a
buffer, an asset with a planned cycle (``kpi: ideal_cycle_time``) is a station; stations
with no buffer between them pass parts hand to hand (capacity 0), and buffers before the
first station are the infeed (the first station is taken as never starved). Parameters
come, in this order, from the plant file (the planned cycle), the demo plant's settings
when the line is the demo line (cycle spread, Weibull failures, log-normal repairs, tool
changes, planned maintenance, the spindle bearing's wear), the twin's own history
(``calibrate``) and a scenario's overrides; each source's parameters are recorded.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from plantwin.model.plant import Plant, Twin, TwinKind
from plantwin.simulation.demo_plant.settings import (
    BearingSettings,
    CncSettings,
    DemoSettings,
    FailureSettings,
    MaintenanceSettings,
)
from plantwin.simulation.line.distributions import Fixed, LogNormal, Weibull
from plantwin.simulation.line.spec import (
    FailureSpec,
    LineSpec,
    PlannedStopSpec,
    SetupSpec,
    ShiftPlan,
    StationSpec,
    WearSpec,
)

HOUR = 3600.0
DAY = 86_400.0
# A planned bearing change skips diagnosis and waiting for the part; 1 h against the demo's
# 2.5 h repair after a failure (unverified; DOMAIN 6 has no MTTR for bearings).
PLANNED_BEARING_H = 1.0
ALARM_MM_S = 4.5  # the plant file's vibration_high rule (ISO 10816-3 zone D, DOMAIN 7)


@dataclass(frozen=True, slots=True, kw_only=True)
class Provenance:
    """Where one station's parameter came from, and over which data if from history."""

    station: str
    parameter: str
    source: str  # "plant file", "demo settings", "history", "scenario"
    detail: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class BuiltLine:
    spec: LineSpec
    provenance: tuple[Provenance, ...]
    assets: dict[str, str]  # station name -> twin id
    feeders: dict[str, tuple[str, ...]] = field(default_factory=dict)  # station -> buffer twins


def find_line(plant: Plant, line_id: str | None) -> Twin:
    """The line twin ``line_id`` (a full id or its last part), or the plant's only line."""
    lines = [t for t in plant.twins.values() if t.kind is TwinKind.LINE]
    if line_id is None:
        if len(lines) != 1:
            names = ", ".join(t.id for t in lines) or "none"
            msg = f"the plant has {len(lines)} lines ({names}): name one"
            raise ValueError(msg)
        return lines[0]
    for twin in lines:
        if line_id in (twin.id, twin.id.rsplit(".", 1)[-1]):
            return twin
    names = ", ".join(t.id for t in lines) or "none"
    msg = f"no line {line_id!r} in the plant (lines: {names})"
    raise ValueError(msg)


def line_from_plant(
    plant: Plant, line_id: str | None = None, *, demo: DemoSettings | None = None
) -> BuiltLine:
    """The line model of ``line_id``; ``demo`` adds the demo plant's reliability settings."""
    line = find_line(plant, line_id)
    stations: list[StationSpec] = []
    buffers: list[int | None] = []
    pending: int | None = None  # capacity of the buffer(s) since the last station
    waiting: list[str] = []  # buffer twins since the last station
    feeders: dict[str, tuple[str, ...]] = {}
    provenance: list[Provenance] = []
    assets: dict[str, str] = {}
    for child_id in line.children:
        twin = plant.twins[child_id]
        capacity = twin.properties.get("capacity")
        short = child_id.rsplit(".", 1)[-1]
        if isinstance(capacity, int) and not isinstance(capacity, bool):
            pending = (pending or 0) + capacity
            waiting.append(child_id)
            continue
        if twin.kpi is None or twin.kpi.ideal_cycle_s is None:
            continue  # not a station of the flow (a meter, a robot without a cycle)
        if stations:
            buffers.append(pending or 0)
        pending = None
        if stations and waiting:  # the infeed before the first station is not modelled
            feeders[short] = tuple(waiting)
        waiting = []
        assets[short] = child_id
        station = StationSpec(name=short, cycle=Fixed(value=twin.kpi.ideal_cycle_s))
        provenance.append(
            Provenance(station=short, parameter="cycle", source="plant file", detail="PRU")
        )
        if demo is not None:
            station, notes = _with_demo(station, demo)
            provenance += notes
        stations.append(station)
    if not stations:
        msg = f"line {line.id!r} has no station: give its machines kpi.ideal_cycle_time"
        raise ValueError(msg)
    spec = LineSpec(name=line.id, stations=tuple(stations), buffers=tuple(buffers), shifts=None)
    return BuiltLine(spec=spec, provenance=tuple(provenance), assets=assets, feeders=feeders)


def _failure(f: FailureSettings) -> FailureSpec:
    return FailureSpec(
        between=Weibull.from_mean(f.mtbf_h * HOUR, f.shape),
        repair=LogNormal(mean=f.mttr_h * HOUR, sigma=f.repair_sigma),
    )


def _planned(m: MaintenanceSettings) -> PlannedStopSpec:
    return PlannedStopSpec(
        interval_s=m.interval_h * HOUR,
        duration=Fixed(value=m.duration_h * HOUR),
        first_s=m.first_h * HOUR,
    )


def bearing_wear(bearing: BearingSettings, spinning: float) -> WearSpec:
    """The demo's bearing model on the station's operating clock (it ages while cutting)."""
    per_op = HOUR / spinning  # spindle hours -> operating seconds
    return WearSpec(
        onset=Weibull(shape=bearing.onset_shape, scale=bearing.onset_eta_h * per_op),
        growth_a=LogNormal(mean=bearing.growth_a_mm_s, sigma=bearing.a_sigma),
        growth_tau=LogNormal(mean=bearing.growth_tau_h * per_op, sigma=bearing.tau_sigma),
        v0=bearing.v0_mm_s,
        alarm_level=ALARM_MM_S,
        failure_level=bearing.failure_mm_s,
        replace=LogNormal(mean=bearing.mttr_h * HOUR, sigma=bearing.repair_sigma),
        planned_replace=LogNormal(mean=PLANNED_BEARING_H * HOUR, sigma=bearing.repair_sigma),
    )


def _cnc(station: StationSpec, cnc: CncSettings) -> StationSpec:
    cycle = cnc.load_s + cnc.cut_s + cnc.unload_s
    spinning = cnc.cut_s / cycle
    return replace(
        station,
        # only the cut varies (log-normal around cut_s): the same spread over the whole cycle
        cycle=LogNormal(mean=cycle, sigma=cnc.cycle_sigma * cnc.cut_s / cycle),
        failures=(_failure(cnc.failures),),
        setup=SetupSpec(
            every_parts=cnc.tool.change_parts,
            duration=LogNormal(mean=cnc.tool.setup_min * 60.0, sigma=cnc.tool.setup_sigma),
        ),
        planned_stop=_planned(cnc.maintenance),
        wear=bearing_wear(cnc.bearing, spinning),
    )


def _with_demo(station: StationSpec, demo: DemoSettings) -> tuple[StationSpec, list[Provenance]]:
    name = station.name
    if name in ("mill1", "lathe1"):
        cnc = demo.mill if name == "mill1" else demo.lathe
        out = _cnc(station, cnc)
        params: tuple[str, ...] = ("cycle", "failures", "setup", "planned_stop", "wear")
    elif name == "washer1":
        w = demo.washer
        out = replace(
            station,
            cycle=Fixed(value=w.load_s + w.wash_s + w.blow_s + w.unload_s),
            failures=(_failure(w.failures),),
            planned_stop=_planned(w.maintenance),
        )
        params = ("cycle", "failures", "planned_stop")
    elif name == "cmm1":
        c = demo.cmm
        out = replace(
            station,
            cycle=Fixed(value=c.load_s + c.measure_s + c.unload_s),
            failures=(_failure(c.failures),),
            planned_stop=_planned(c.maintenance),
            # random defects of both CNCs are found here (wear-related scrap not modelled)
            scrap=demo.mill.quality.defect_p + demo.lathe.quality.defect_p,
        )
        params = ("cycle", "failures", "planned_stop", "scrap")
    else:
        return station, []
    notes = [Provenance(station=name, parameter=p, source="demo settings") for p in params]
    return out, notes


def shift_plan(plant: Plant, line_id: str) -> ShiftPlan | None:
    """The site's shifts as a weekly plan from Monday 00:00 local (None: around the clock).

    Simulated time 0 is a Monday midnight in the site's zone; daylight-saving shifts are
    ignored. Breaks are planned stops inside their shift.
    """
    calendar = plant.calendar(line_id)
    if not calendar.shifts:
        return None
    zone = ZoneInfo(calendar.zone)
    monday = datetime(2024, 1, 1, tzinfo=zone)  # a Monday; DST shifts are ignored
    spans: list[tuple[float, float]] = []
    for shift in calendar.shifts:
        for day in sorted(shift.days):
            start = monday + timedelta(days=day, hours=shift.start.hour, minutes=shift.start.minute)
            end = monday + timedelta(days=day, hours=shift.end.hour, minutes=shift.end.minute)
            if end <= start:
                end += timedelta(days=1)
            cuts = [start]
            for b_start, b_end in shift.breaks:
                for t in (b_start, b_end):
                    at = start.replace(hour=t.hour, minute=t.minute)
                    cuts.append(at if at >= start else at + timedelta(days=1))
            cuts.append(end)
            for a, b in zip(cuts[::2], cuts[1::2], strict=True):
                spans.append(((a - monday).total_seconds(), (b - monday).total_seconds()))
    return weekly_plan(spans)


def weekly_plan(spans: list[tuple[float, float]]) -> ShiftPlan | None:
    """Working spans (seconds from Monday 00:00, may run past Sunday) as a weekly plan."""
    week = 7 * DAY
    pieces: list[tuple[float, float]] = []
    for first, last in spans:
        a, b = first % week, first % week + (last - first)
        if b > week:
            pieces += [(a, week), (0.0, b - week)]
        else:
            pieces.append((a, b))
    pieces.sort()
    merged: list[tuple[float, float]] = []
    for a, b in pieces:
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], b))
        else:
            merged.append((a, b))
    if sum(b - a for a, b in merged) >= week - 1e-6:
        return None  # around the clock
    return ShiftPlan(period_s=week, windows=tuple(merged), origin_s=0.0)

"""Scenario files: a line from the plant file, changes to compare, KPIs, costs (YAML).

    plant: ../machining-line.yaml        # relative to the scenario file
    line: L1                             # optional when the plant has one line
    demo_settings: true                  # the demo plant's reliability settings
    horizon: 30 d
    warmup: 1 d
    replications: 10
    seed: 1
    costs: {corrective: 800, preventive: 300, spare_part: 450, downtime_per_h: 1200}
    kpis: [throughput_per_h, oee, wip, lead_time_min, utilisation, bottleneck]
    scenarios:
      baseline: {}
      second mill: {stations: {mill1: {machines: 2}}}
      bigger buffer: {buffers: {mill1: 16}}          # the buffer after mill1
      faster lathe: {stations: {lathe1: {cycle_factor: 0.9}}}
      two shifts: {shifts: [["Mon-Fri", "06:00", "22:00"]]}
      condition-based: {maintenance: {policy: condition, lead: 1 h}}

Every scenario starts from the same line and the same random numbers (replication i of
each scenario uses the same seed), so the differences the table shows are the changes'.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from plantwin.core.errors import PlantwinError
from plantwin.model.plant import Plant
from plantwin.model.yaml_source import load_yaml, read_yaml_file
from plantwin.simulation.line.plant_line import BuiltLine, weekly_plan
from plantwin.simulation.line.scenario_file import (
    ChangeModel,
    CostModel,
    MaintenanceModel,
    ScenarioFile,
    StationChange,
    distribution,
    seconds,
)
from plantwin.simulation.line.spec import (
    FailureSpec,
    LineSpec,
    MaintenanceCosts,
    MaintenancePolicy,
    PolicyKind,
    ShiftPlan,
    StationSpec,
)

DAYS = {"Mon": 0, "Tue": 1, "Wed": 2, "Thu": 3, "Fri": 4, "Sat": 5, "Sun": 6}


class ScenarioError(PlantwinError):
    """A scenario file that cannot be read or does not fit its plant."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Study:
    """A scenario file resolved against its plant: one line model per scenario."""

    source: Path
    plant_file: Path
    built: BuiltLine  # the line before any scenario's change (stations -> twins)
    lines: dict[str, LineSpec]
    horizon_s: float
    warmup_s: float
    replications: int
    seed: int
    kpis: tuple[str, ...]


def read_scenario(path: Path) -> ScenarioFile:
    """Parse and check a scenario file; errors name file:line and the key."""
    return _checked(*read_yaml_file(path), path=path)


def parse_scenario(text: str, name: str = "scenario") -> ScenarioFile:
    """Parse and check scenario YAML given as text (the API's request body)."""
    return _checked(*load_yaml(text), path=Path(name))


def _checked(data: Any, lines: dict[Any, int], problems: list[Any], *, path: Path) -> ScenarioFile:
    if problems:
        raise ScenarioError("\n".join(p.render(str(path)) for p in problems))
    try:
        return ScenarioFile.model_validate(data)
    except ValidationError as err:
        out = []
        for e in err.errors():
            loc = tuple(e["loc"])
            line = None
            for n in range(len(loc), -1, -1):
                line = lines.get(loc[:n])
                if line is not None:
                    break
            where = f"{path}:{line}" if line else str(path)
            out.append(f"{where} {'.'.join(map(str, loc)) or '(file)'}: {e['msg']}")
        raise ScenarioError(f"{len(out)} problem(s) in {path}:\n" + "\n".join(out)) from None


def build_study(
    file: ScenarioFile,
    source: Path,
    built: BuiltLine,
    *,
    horizon_s: float | None = None,
    replications: int | None = None,
) -> Study:
    """Apply each scenario's changes to the built line; the arguments replace the file's."""
    base = replace(
        built.spec,
        costs=_costs(file.costs),
        policy=_policy(file.maintenance) if file.maintenance else built.spec.policy,
    )
    lines: dict[str, LineSpec] = {}
    for name, change in file.scenarios.items():
        try:
            lines[name] = apply_change(base, change)
        except (ValueError, KeyError) as err:
            msg = f"{source}: scenario {name!r}: {err.args[0] if err.args else err}"
            raise ScenarioError(msg) from err
    return Study(
        source=source,
        plant_file=(source.parent / file.plant).resolve() if file.plant else source,
        built=built,
        lines=lines,
        horizon_s=horizon_s or seconds(file.horizon),
        warmup_s=seconds(file.warmup),
        replications=replications or file.replications,
        seed=file.seed,
        kpis=tuple(file.kpis),
    )


def apply_change(line: LineSpec, change: ChangeModel) -> LineSpec:
    stations = list(line.stations)
    names = [s.name for s in stations]
    for name, sc in change.stations.items():
        i = names.index(line.station(name).name)
        stations[i] = _station(stations[i], sc)
    buffers = list(line.buffers)
    for name, capacity in change.buffers.items():
        i = names.index(line.station(name).name)
        if i >= len(buffers):
            msg = f"station {name!r} is the last: there is no buffer after it"
            raise ValueError(msg)
        buffers[i] = capacity
    out = replace(line, stations=tuple(stations), buffers=tuple(buffers))
    if change.shifts is not None:
        out = replace(out, shifts=weekly_shifts(change.shifts))
    if change.maintenance is not None:
        out = replace(out, policy=_policy(change.maintenance))
    if change.costs is not None:
        out = replace(out, costs=_costs(change.costs))
    return out


def _station(s: StationSpec, c: StationChange) -> StationSpec:
    if c.machines is not None:
        s = replace(s, machines=c.machines)
    if c.cycle is not None:
        s = replace(s, cycle=distribution(c.cycle), ideal_cycle_s=s.ideal_s)
    if c.cycle_factor is not None:
        s = replace(s, cycle=s.cycle.scaled(c.cycle_factor), ideal_cycle_s=s.ideal_s)
    if c.failures is not None:
        s = replace(
            s,
            failures=tuple(
                FailureSpec(between=distribution(f.between), repair=distribution(f.repair))
                for f in c.failures
            ),
        )
    if c.mtbf_factor is not None or c.mttr_factor is not None:
        up, fix = c.mtbf_factor or 1.0, c.mttr_factor or 1.0
        s = replace(
            s,
            failures=tuple(
                replace(f, between=f.between.scaled(up), repair=f.repair.scaled(fix))
                for f in s.failures
            ),
        )
    if c.scrap is not None:
        s = replace(s, scrap=c.scrap)
    if c.rework is not None:
        s = replace(s, rework=c.rework)
    return s


def _policy(m: MaintenanceModel) -> MaintenancePolicy:
    if m.policy is PolicyKind.FIXED_INTERVAL and m.interval is None:
        msg = "a fixed_interval policy needs 'interval' (operating time between changes)"
        raise ScenarioError(msg)
    return MaintenancePolicy(
        kind=m.policy,
        interval_s=seconds(m.interval) if m.interval is not None else float("inf"),
        lead_s=seconds(m.lead),
        rul_error=m.rul_error,
        margin_s=seconds(m.margin),
    )


def _costs(c: CostModel) -> MaintenanceCosts:
    return MaintenanceCosts(
        corrective=c.corrective,
        preventive=c.preventive,
        spare_part=c.spare_part,
        downtime_per_h=c.downtime_per_h,
    )


def weekly_shifts(rows: list[tuple[str, str, str]]) -> ShiftPlan:
    """("Mon-Fri", "06:00", "22:00") rows as a weekly plan from Monday 00:00."""
    spans: list[tuple[float, float]] = []
    for days, start, end in rows:
        first, _, last = days.partition("-")
        if first not in DAYS or (last and last not in DAYS):
            msg = f"shift days {days!r}: write e.g. 'Mon-Fri' or 'Sat'"
            raise ValueError(msg)
        a, b = _clock(start), _clock(end)
        if b <= a:
            b += 86_400.0
        for day in range(DAYS[first], DAYS[last or first] + 1):
            spans.append((day * 86_400.0 + a, day * 86_400.0 + b))
    plan = weekly_plan(spans)
    if plan is None:
        return ShiftPlan(period_s=86_400.0, windows=((0.0, 86_400.0),))
    return plan


def _clock(text: str) -> float:
    hours, _, minutes = text.partition(":")
    try:
        h, m = int(hours), int(minutes or 0)
    except ValueError:
        h = m = -1
    if not (0 <= h <= 24 and 0 <= m < 60):
        msg = f"time of day {text!r}: write HH:MM"
        raise ValueError(msg)
    return h * 3600.0 + m * 60.0


def load_study(
    path: Path,
    *,
    horizon_s: float | None = None,
    replications: int | None = None,
    adjust: Callable[[BuiltLine, Plant], BuiltLine] | None = None,
) -> Study:
    """Read a scenario file and its plant file and build every scenario's line.

    ``adjust`` may change the line before the scenarios do (calibration from history).
    """
    from plantwin.model.loader import load_plant  # noqa: PLC0415 - keeps imports light

    file = read_scenario(path)
    if file.plant is None:
        msg = f"{path}: name the plant file ('plant: ../machining-line.yaml')"
        raise ScenarioError(msg)
    plant_file = (path.parent / file.plant).resolve()
    if not plant_file.is_file():
        msg = f"{path}: plant file {file.plant!r} not found (looked at {plant_file})"
        raise ScenarioError(msg)
    plant = load_plant(plant_file)
    built = base_line(file, plant, str(path))
    if adjust is not None:
        built = adjust(built, plant)
    return _study(file, path, built, horizon_s, replications)


def base_line(file: ScenarioFile, plant: Plant, where: str) -> BuiltLine:
    """The scenario file's line from the plant, before any scenario's change."""
    from plantwin.simulation.demo_plant.settings import DemoSettings  # noqa: PLC0415
    from plantwin.simulation.line.plant_line import line_from_plant  # noqa: PLC0415

    try:
        return line_from_plant(
            plant, file.line, demo=DemoSettings() if file.demo_settings else None
        )
    except ValueError as err:
        raise ScenarioError(f"{where}: {err}") from err


def _study(
    file: ScenarioFile,
    source: Path,
    built: BuiltLine,
    horizon_s: float | None,
    replications: int | None,
) -> Study:
    try:
        return build_study(file, source, built, horizon_s=horizon_s, replications=replications)
    except ValueError as err:  # a duration pint cannot read, a shift plan that is wrong
        raise ScenarioError(f"{source}: {err}") from err


def study_for_plant(
    file: ScenarioFile,
    plant: Plant,
    *,
    built: BuiltLine | None = None,
    horizon_s: float | None = None,
    replications: int | None = None,
) -> Study:
    """A parsed scenario against a plant already loaded (the running twin's); ``built``
    replaces the line made from the plant (e.g. calibrated from history)."""
    line = built if built is not None else base_line(file, plant, "scenario")
    return _study(file, Path(plant.source), line, horizon_s, replications)

"""Resolving KPI settings: counter signals, planned cycle time, micro-stop threshold, output."""

from __future__ import annotations

import difflib
from collections.abc import Mapping

from plantwin.model.layers import Located
from plantwin.model.plant import KpiDef, MtbfDivisor, SignalDef, TwinKind
from plantwin.model.problems import Path, ProblemLog
from plantwin.model.resolve import TwinDraft
from plantwin.model.schema import LineKpiSpec
from plantwin.model.units import UnitError, linear_conversion, parse_quantity, parse_unit

PART_COUNTERS = ("produced", "good", "scrap", "rework")


def resolve_kpis(
    twins: Mapping[str, TwinDraft],
    signals: Mapping[str, SignalDef],
    broken: set[str],
    lines: Mapping[str, Located[LineKpiSpec]],
    log: ProblemLog,
) -> dict[str, KpiDef]:
    """KPI settings by twin id, for assets with a ``kpi`` entry and lines naming an output."""
    out: dict[str, KpiDef] = {}
    for draft in twins.values():
        if draft.effective.kpi_at is not None:
            found = _asset(draft, signals, broken, log)
            if found is not None:
                out[draft.id] = found
    for line_id, located in lines.items():
        output = f"{line_id}.{located.value.output}"
        where = (*located.path, "output")
        target = twins.get(output)
        if target is None or target.kind is not TwinKind.ASSET:
            name = located.value.output
            names = [t.rsplit(".", 1)[-1] for t in twins if twins[t].parent == line_id]
            log.add(where, f"no asset '{name}' on this line{_hint(name, names)}")
        elif output in out and out[output].produced is None and out[output].good is None:
            name = located.value.output
            log.add(where, f"asset '{name}' counts no parts (its kpi has no 'produced' or 'good')")
        elif output not in out and target.effective.kpi_at is None:
            log.add(where, f"asset '{located.value.output}' has no kpi settings")
        else:
            out[line_id] = KpiDef(output=output)
    return out


def _asset(
    draft: TwinDraft, signals: Mapping[str, SignalDef], broken: set[str], log: ProblemLog
) -> KpiDef | None:
    eff = draft.effective
    at = eff.kpi_at
    assert at is not None
    if draft.kind is not TwinKind.ASSET:
        log.add(at, "kpi settings belong to assets (or asset types), not components")
        return None
    if draft.states is None:
        log.add(at, "KPIs need a state model ('states:') to tell run time from down time")
        return None
    ok = True
    keys: dict[str, str | None] = {}
    for role in (*PART_COUNTERS, "energy"):
        keys[role] = None
        located = eff.kpi.get(role)
        if located is None or located.value is None:
            continue
        key = _counter(draft, role, str(located.value), located.path, signals, broken, log)
        ok = ok and key is not None
        keys[role] = key
    energy_to_kwh = 1.0
    if keys["energy"] is not None:
        energy_to_kwh = linear_conversion(signals[keys["energy"]].unit, "kWh")[0]
    ideal = _duration(eff.kpi.get("ideal_cycle_time"), log, positive=True)
    minor = _duration(eff.kpi.get("minor_stop"), log, positive=False)
    if ideal is False or minor is False or not ok:
        return None
    divisor = eff.kpi.get("mtbf_divisor")
    return KpiDef(
        produced=keys["produced"],
        good=keys["good"],
        scrap=keys["scrap"],
        rework=keys["rework"],
        energy=keys["energy"],
        energy_to_kwh=energy_to_kwh,
        ideal_cycle_s=ideal,
        minor_stop_s=minor or 0.0,
        mtbf_divisor=MtbfDivisor(str(divisor.value)) if divisor else MtbfDivisor.FAILURES,
    )


def _counter(
    draft: TwinDraft,
    role: str,
    name: str,
    path: Path,
    signals: Mapping[str, SignalDef],
    broken: set[str],
    log: ProblemLog,
) -> str | None:
    *parts, last = name.split(".")
    key = f"{'.'.join([draft.id, *parts])}/{last}"
    if key in broken:
        return None  # its own problem is reported already
    sig = signals.get(key)
    if sig is None:
        names = [k.split("/", 1)[1] for k in draft.signals]
        log.add(path, f"unknown signal '{name}' of this twin{_hint(name, names)}")
        return None
    if not sig.counter or sig.derived is not None:
        log.add(path, f"signal '{name}' is not a counter; declare it with 'counter: true'")
        return None
    unit = parse_unit(sig.unit)
    if role == "energy":
        if not (1 * unit).check("[energy]"):
            log.add(path, f"energy counter '{name}' is in {sig.unit}, not an energy unit (kWh)")
            return None
    elif not unit.dimensionless:
        log.add(path, f"'{name}' counts parts; its unit must be piece, not {sig.unit}")
        return None
    return key


def _duration(
    located: Located[object] | None, log: ProblemLog, *, positive: bool
) -> float | bool | None:
    """Seconds; None when not given; False after logging a problem."""
    if located is None or located.value is None:
        return None
    text = located.value
    if not isinstance(text, str):
        shown = f"{text:g}" if isinstance(text, int | float) else repr(text)
        log.add(located.path, f"{shown} has no unit; write a time such as '52 s' or '5 min'")
        return False
    try:
        quantity = parse_quantity(text)
    except UnitError as err:
        log.add(located.path, str(err))
        return False
    if not quantity.check("[time]"):
        log.add(located.path, f"{text!r} is not a time; write e.g. '52 s' or '5 min'")
        return False
    seconds = float(quantity.to("s").magnitude)
    if seconds < 0 or (positive and seconds == 0):
        must = "longer than zero" if positive else "zero or longer"
        log.add(located.path, f"{text!r} must be {must}")
        return False
    return seconds


def _hint(name: str, names: list[str]) -> str:
    close = difflib.get_close_matches(name, names, n=1)
    return f"; did you mean '{close[0]}'?" if close else ""

"""Computing KPI records from the history in the store (through the Store protocol only).

For an asset the engine reads its state changes once for the whole query (plus the state
before it, and what follows up to the micro-stop threshold, so a stop crossing the edge is
judged by its whole length) and its counter samples (plus a look-back for the baseline),
then cuts both into the periods. Lines and sites are computed from their assets' inputs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from plantwin.core.clock import NS_PER_S
from plantwin.core.kpis import KpiRecord
from plantwin.core.records import StateChange
from plantwin.core.store import HistoryQuery, RecordQuery, Store
from plantwin.model.catalog import SignalCatalog
from plantwin.model.plant import Calendar, KpiDef, Plant, Twin, TwinKind
from plantwin.model.schema import StateCategory
from plantwin.processing.kpis import formulas
from plantwin.processing.kpis.counters import Increase, increases
from plantwin.processing.kpis.periods import Period, Span, planned
from plantwin.processing.kpis.timeline import Timeline, subtract, time_elements

PAGE = 50_000
COUNTER_LOOKBACK_S = 3600.0  # counters are expected to report at least hourly (heartbeat)


@dataclass(frozen=True, slots=True, kw_only=True)
class Computed:
    """One period's numbers before they become a record."""

    inputs: dict[str, float]
    flags: list[str]


class KpiEngine:
    """KPI records of any twin with KPIs: assets with ``kpi`` settings, and their groups."""

    def __init__(
        self,
        plant: Plant,
        catalog: SignalCatalog,
        store: Store,
        *,
        counter_lookback_s: float = COUNTER_LOOKBACK_S,
    ) -> None:
        self.plant = plant
        self.catalog = catalog
        self.store = store
        self.lookback = round(counter_lookback_s * NS_PER_S)
        self.assets: dict[str, KpiDef] = {
            t.id: t.kpi for t in plant.twins.values() if t.kind is TwinKind.ASSET and t.kpi
        }

    def has_kpis(self, twin_id: str) -> bool:
        twin = self.plant.twins.get(twin_id)
        if twin is None:
            return False
        if twin.kind is TwinKind.ASSET:
            return twin_id in self.assets
        return twin.kind in (TwinKind.LINE, TwinKind.SITE) and bool(self.members(twin_id))

    def scopes(self) -> list[str]:
        """Twins with KPIs, in tree order."""
        return [t for t in self.plant.twins if self.has_kpis(t)]

    def members(self, twin_id: str) -> list[str]:
        """The KPI assets at or below a twin."""
        return [t.id for t in self.plant.walk(twin_id) if t.id in self.assets]

    async def compute(self, twin_id: str, periods: Sequence[Period], now: int) -> list[KpiRecord]:
        """Records of ``twin_id`` for each period that has begun; open ones end at ``now``."""
        started = [p for p in periods if p.start < now]
        computed = await self._computed(self.plant.twins[twin_id], started, now, {})
        out: list[KpiRecord] = []
        asset = self.plant.twins[twin_id].kind is TwinKind.ASSET
        for period, item in zip(started, computed, strict=True):
            values = formulas.kpi_values(item.inputs, asset=asset)
            flags = [*item.flags, *formulas.quality_flags(values, item.inputs)]
            out.append(
                KpiRecord(
                    twin=twin_id,
                    period=period.name,
                    start=period.start,
                    end=period.end,
                    label=period.label,
                    computed=now,
                    values=values,
                    inputs=item.inputs,
                    flags=tuple(dict.fromkeys(flags)),
                )
            )
        return out

    async def _computed(
        self, twin: Twin, periods: Sequence[Period], now: int, done: dict[str, list[Computed]]
    ) -> list[Computed]:
        """Inputs and flags per period; ``done`` keeps what this query computed already."""
        if twin.id in done:
            return done[twin.id]
        if twin.kind is TwinKind.ASSET:
            done[twin.id] = await self._asset(twin, self.assets[twin.id], periods, now)
            return done[twin.id]
        calendar = self.plant.calendar(twin.id)
        planned_s = [_planned_seconds(calendar, p, now) for p in periods]
        members: dict[str, list[Computed]] = {}
        for member in self.members(twin.id):
            members[member] = await self._computed(self.plant.twins[member], periods, now, done)
        output = twin.kpi.output if twin.kpi is not None else None
        lines: dict[str, list[Computed]] = {}
        if twin.kind is TwinKind.SITE:
            for child in twin.children:
                child_twin = self.plant.twins[child]
                if child_twin.kind is TwinKind.LINE and self.has_kpis(child):
                    lines[child] = await self._computed(child_twin, periods, now, done)
        out: list[Computed] = []
        for i in range(len(periods)):
            inputs = formulas.group_inputs(
                [m[i].inputs for m in members.values()],
                planned_s=planned_s[i],
                output=members[output][i].inputs if output in members else None,
                lines=[line[i].inputs for line in lines.values()],
            )
            flags = [f for m in members.values() for f in m[i].flags]
            out.append(Computed(inputs=inputs, flags=list(dict.fromkeys(flags))))
        done[twin.id] = out
        return out

    async def _asset(
        self, twin: Twin, kpi: KpiDef, periods: Sequence[Period], now: int
    ) -> list[Computed]:
        if not periods:
            return []
        calendar = self.plant.calendar(twin.id)
        lo = min(p.start for p in periods)
        hi = min(max(p.end for p in periods), now)
        timeline = await self._timeline(twin, lo, hi, kpi.minor_stop_s, now)
        timeline, minor = timeline.with_minor_stops(kpi.minor_stop_s)
        windows: list[Span] = [(p.start, min(p.end, now)) for p in periods]
        plans = [planned(calendar, start, end) for start, end in windows]
        # quantities count inside shifts (breaks included: a part made just before a break
        # may be reported in it); time outside every shift counts for nothing
        spans = [span for scheduled, _ in plans for span in scheduled]
        owner = [i for i, (scheduled, _) in enumerate(plans) for _ in scheduled]
        counts: dict[str, list[list[Increase]]] = {}
        for role, key in (
            ("produced", kpi.produced),
            ("good", kpi.good),
            ("scrap", kpi.scrap),
            ("rework", kpi.rework),
            ("energy", kpi.energy),
        ):
            if key is not None:
                per_window: list[list[Increase]] = [[] for _ in windows]
                for i, inc in zip(owner, await self._increases(key, lo, hi, spans), strict=True):
                    per_window[i].append(inc)
                counts[role] = per_window
        out: list[Computed] = []
        for i, (scheduled, breaks) in enumerate(plans):
            te = time_elements(timeline, minor, scheduled, breaks)
            found = {role: _sum(inc[i]) for role, inc in counts.items()}
            quantities, flags = _quantities(kpi, found)
            energy = found.get("energy")
            inputs = formulas.asset_inputs(
                te,
                planned_s=_seconds(subtract(scheduled, breaks)),
                quantities=quantities,
                pru_s=kpi.ideal_cycle_s,
                divisor=kpi.mtbf_divisor,
                energy_kwh=energy.value * kpi.energy_to_kwh if energy is not None else None,
            )
            out.append(Computed(inputs=inputs, flags=flags))
        return out

    async def _timeline(self, twin: Twin, lo: int, hi: int, minor_s: float, now: int) -> Timeline:
        """The asset's states from the one held at ``lo`` to ``hi`` (+ the minor-stop reach)."""
        assert twin.states is not None  # the loader requires a state model for KPIs
        category = {s.name: s.category for s in twin.states.states}
        before = await self.store.records(
            RecordQuery(kind=StateChange, twin=twin.id, exact=True, end=lo, limit=1)
        )
        reach = min(hi + round(minor_s * NS_PER_S), now)
        changes = [*before, *await self._changes(twin.id, lo, max(reach, lo + 1))]
        rows: list[tuple[int, StateCategory | None]] = [
            (c.ts, category.get(c.state)) for c in changes if isinstance(c, StateChange)
        ]
        rows.sort(key=lambda r: r[0])
        return Timeline.of(rows, until=reach)

    async def _changes(self, twin_id: str, lo: int, hi: int) -> list[StateChange]:
        """State changes of one twin in [lo, hi), oldest first, read page by page."""
        found: list[StateChange] = []
        end = hi
        while True:
            page = [
                r
                for r in await self.store.records(
                    RecordQuery(
                        kind=StateChange, twin=twin_id, exact=True, start=lo, end=end, limit=PAGE
                    )
                )
                if isinstance(r, StateChange)
            ]
            if len(page) < PAGE:
                found.extend(page)
                break
            oldest = page[-1].ts  # newest first: the next page ends where this one stops
            found.extend(r for r in page if r.ts > oldest)
            end = oldest + 1
        found.sort(key=lambda r: r.ts)
        return found

    async def _increases(self, key: str, lo: int, hi: int, windows: list[Span]) -> list[Increase]:
        sid = self.catalog.id(key)
        ts_parts: list[np.ndarray] = []
        value_parts: list[np.ndarray] = []
        start = lo - self.lookback
        while start < hi:
            page = await self.store.history(
                HistoryQuery(signal=sid, start=start, end=hi, limit=PAGE)
            )
            ts_parts.append(page.ts)
            value_parts.append(page.last)
            if len(page) < PAGE:
                break
            start = int(page.ts[-1]) + 1
        ts = np.concatenate(ts_parts) if ts_parts else np.empty(0, np.int64)
        value = np.concatenate(value_parts) if value_parts else np.empty(0, np.float64)
        return increases(ts, value, windows)


def _quantities(kpi: KpiDef, found: Mapping[str, Increase]) -> tuple[dict[str, float], list[str]]:
    """PQ, GQ, SQ, RQ from the counters found; GQ = PQ - SQ - RQ without a good counter."""
    flags: list[str] = []
    if any(i.resets for i in found.values()):
        flags.append(formulas.COUNTER_RESET)
    if any(i.no_baseline for i in found.values()):
        flags.append(formulas.NO_BASELINE)
    if "produced" not in found and "good" not in found:
        return {}, flags
    sq = found["scrap"].value if "scrap" in found else 0.0
    rq = found["rework"].value if "rework" in found else 0.0
    if "produced" in found:
        pq = found["produced"].value
        gq = found["good"].value if "good" in found else pq - sq - rq
    else:
        gq = found["good"].value
        pq = gq + sq + rq
    if not {"good", "scrap", "rework"} & set(found):
        flags.append(formulas.GOOD_ASSUMED)
    return {"pq": pq, "gq": gq, "sq": sq, "rq": rq}, flags


def _sum(parts: list[Increase]) -> Increase:
    return Increase(
        value=sum(p.value for p in parts),
        resets=sum(p.resets for p in parts),
        no_baseline=any(p.no_baseline for p in parts),
    )


def _seconds(spans: list[Span]) -> float:
    return sum(hi - lo for lo, hi in spans) / NS_PER_S


def _planned_seconds(calendar: Calendar, period: Period, now: int) -> float:
    scheduled, breaks = planned(calendar, period.start, min(period.end, now))
    return _seconds(subtract(scheduled, breaks))

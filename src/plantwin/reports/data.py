"""What a shift or day report shows, gathered through the Store protocol and the KPI service.

The KPI numbers come from the same :class:`KpiService` as ``GET /api/v1/kpis``, so a report
and the API agree; closed periods are read from (or stored into) the KPI table.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from plantwin.core.kpis import KpiRecord
from plantwin.core.records import AlarmEvent, StateChange
from plantwin.core.store import HistoryQuery, RecordQuery, Store
from plantwin.model.catalog import SignalCatalog
from plantwin.model.plant import Plant, Twin, TwinKind
from plantwin.model.schema import StateCategory
from plantwin.processing.kpis import KpiEngine, KpiService, PeriodKind
from plantwin.processing.kpis.periods import Period, Span, planned

MAX_RECORDS = 1_000_000  # state changes or alarm events of one twin in one report period
TOP_ALARMS = 10


@dataclass(frozen=True, slots=True, kw_only=True)
class UnitKpis:
    twin: str
    name: str
    kind: str
    record: KpiRecord


@dataclass(frozen=True, slots=True, kw_only=True)
class Downtime:
    """Planned time (shifts less breaks) an asset spent in one non-producing state."""

    twin: str
    name: str
    state: str
    category: str
    seconds: float


@dataclass(frozen=True, slots=True, kw_only=True)
class AlarmCount:
    alarm: str
    twin: str
    priority: str
    count: int
    message: str


@dataclass(frozen=True, slots=True, kw_only=True)
class RulValue:
    twin: str
    signal: str
    value: float
    unit: str
    ts: int


@dataclass(frozen=True, slots=True, kw_only=True)
class ReportData:
    plant: str
    scope: Twin
    period: Period
    zone: str
    now: int  # plant time of the report; a period not yet over ends here
    kpis: UnitKpis | None  # the scope's own KPIs
    units: list[UnitKpis]  # the KPI assets below the scope (the scope itself if an asset)
    downtime: list[Downtime]
    alarm_total: int  # activations in the period
    alarms_by_priority: dict[str, int]
    top_alarms: list[AlarmCount]
    rul_signals: int  # RUL signals configured at or below the scope
    rul: list[RulValue]


async def gather(
    plant: Plant, catalog: SignalCatalog, store: Store, scope: str, period: Period, now: int
) -> ReportData:
    """Everything a report on ``scope`` over ``period`` shows, as of plant time ``now``."""
    twin = plant.twins[scope]
    service = KpiService(KpiEngine(plant, catalog, store))
    kind = PeriodKind.SHIFT if period.kind is PeriodKind.SHIFT else PeriodKind.DAY
    own = await _kpis(service, twin, kind, period, now)
    members = service.engine.members(scope)
    units = [u for t in members if (u := await _kpis(service, plant.twins[t], kind, period, now))]
    if twin.kind is not TwinKind.ASSET and own is not None:
        units.append(own)
    end = min(period.end, now)
    downtime: list[Downtime] = []
    for asset in plant.walk(scope):
        if asset.kind is TwinKind.ASSET and asset.states is not None:
            downtime += await _downtime(plant, store, asset, period, end)
    events = await store.records(
        RecordQuery(kind=AlarmEvent, twin=scope, start=period.start, end=end, limit=MAX_RECORDS)
    )
    raised = [e for e in events if isinstance(e, AlarmEvent) and e.action == "activate"]
    rul_keys = [k for t in plant.walk(scope) for k in t.signals if _is_rul(plant, k)]
    return ReportData(
        plant=plant.name,
        scope=twin,
        period=period,
        zone=plant.calendar(scope).zone,
        now=now,
        kpis=own,
        units=units,
        downtime=sorted(downtime, key=lambda d: -d.seconds),
        alarm_total=len(raised),
        alarms_by_priority=dict(Counter(e.priority for e in raised)),
        top_alarms=_top(plant, raised),
        rul_signals=len(rul_keys),
        rul=[v for k in rul_keys if (v := await _last(plant, catalog, store, k, period, end))],
    )


async def _kpis(
    service: KpiService, twin: Twin, kind: PeriodKind, period: Period, now: int
) -> UnitKpis | None:
    if not service.engine.has_kpis(twin.id) or period.start >= now:
        return None
    records = await service.query(twin.id, kind, period.start, period.end, now)
    for record in records:
        if record.start == period.start:
            return UnitKpis(twin=twin.id, name=twin.name, kind=twin.kind.value, record=record)
    return None


async def _downtime(
    plant: Plant, store: Store, asset: Twin, period: Period, end: int
) -> list[Downtime]:
    assert asset.states is not None
    categories = {s.name: s.category for s in asset.states.states}
    inside = await store.records(
        RecordQuery(
            kind=StateChange,
            twin=asset.id,
            exact=True,
            start=period.start,
            end=end,
            limit=MAX_RECORDS,
        )
    )
    before = await store.records(
        RecordQuery(kind=StateChange, twin=asset.id, exact=True, end=period.start, limit=1)
    )
    changes = sorted(
        (r for r in [*before, *inside] if isinstance(r, StateChange)), key=lambda r: r.ts
    )
    scheduled, breaks = planned(plant.calendar(asset.id), period.start, end)
    seconds: Counter[str] = Counter()
    for i, change in enumerate(changes):
        lo = max(change.ts, period.start)
        hi = changes[i + 1].ts if i + 1 < len(changes) else end
        if hi > lo and categories.get(change.state) not in (StateCategory.PRODUCTION, None):
            seconds[change.state] += _overlap(lo, hi, scheduled) - _overlap(lo, hi, breaks)
    return [
        Downtime(
            twin=asset.id,
            name=asset.name,
            state=state,
            category=categories[state].value,
            seconds=s / 1e9,
        )
        for state, s in seconds.items()
        if s > 0
    ]


def _overlap(lo: int, hi: int, spans: list[Span]) -> int:
    return sum(max(0, min(hi, b) - max(lo, a)) for a, b in spans)


def _top(plant: Plant, raised: list[AlarmEvent]) -> list[AlarmCount]:
    counts = Counter(e.alarm for e in raised)
    newest = {e.alarm: e for e in sorted(raised, key=lambda e: e.ts)}
    out: list[AlarmCount] = []
    for alarm, count in counts.most_common(TOP_ALARMS):
        event = newest[alarm]
        name = plant.twins[event.twin].name if event.twin in plant.twins else event.twin
        out.append(
            AlarmCount(
                alarm=alarm,
                twin=name,
                priority=event.priority,
                count=count,
                message=event.message,
            )
        )
    return out


def _is_rul(plant: Plant, key: str) -> bool:
    """RUL signals: declared with ``rul:`` in the plant file, or named ``rul`` / ``*_rul``
    (what another RUL model publishes)."""
    signal = plant.signals[key]
    return signal.rul is not None or signal.name == "rul" or signal.name.endswith("_rul")


async def _last(
    plant: Plant, catalog: SignalCatalog, store: Store, key: str, period: Period, end: int
) -> RulValue | None:
    if end <= period.start:
        return None
    history = await store.history(
        HistoryQuery(signal=catalog.id(key), start=period.start, end=end, every=end - period.start)
    )
    if not len(history):
        return None
    signal = plant.signals[key]
    return RulValue(
        twin=signal.twin,
        signal=signal.name,
        value=float(history.last[-1]),
        unit=signal.unit,
        ts=int(history.ts[-1]),
    )

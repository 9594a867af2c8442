"""KPI queries: stored records for closed shifts and days, computed ones for the rest.

A shift or production day is *closed* once its end lies ``settle_s`` of plant time in the
past (late data has arrived by then); it is computed once and stored, by the runtime's KPI
job or by the first query that needs it. Open periods (the running shift, shift-to-date,
today, a rolling window) and fixed buckets are computed on demand and not stored.
"""

from __future__ import annotations

from dataclasses import dataclass

from plantwin.core.clock import NS_PER_S
from plantwin.core.errors import QueryError
from plantwin.core.kpis import KpiQuery, KpiRecord
from plantwin.processing.kpis.engine import KpiEngine
from plantwin.processing.kpis.periods import (
    Period,
    PeriodKind,
    bucket_periods,
    day_periods,
    range_period,
    shift_periods,
)

SETTLE_S = 300.0
MAX_PERIODS = 5000
STORED_KINDS = (PeriodKind.SHIFT, PeriodKind.DAY)


@dataclass(frozen=True, slots=True)
class Every:
    """Fixed buckets of ``width`` ns; ``name`` is how records call the period (``PT1H``)."""

    width: int
    name: str


PeriodSpec = PeriodKind | Every | None  # SHIFT, DAY, fixed buckets, or one window (None)


class KpiService:
    def __init__(
        self, engine: KpiEngine, *, settle_s: float = SETTLE_S, max_periods: int = MAX_PERIODS
    ) -> None:
        self.engine = engine
        self.settle = round(settle_s * NS_PER_S)
        self.max_periods = max_periods
        # closed periods the job found without any data (before the history began): not
        # looked at again by this process (a query still computes them when asked)
        self._empty: set[tuple[str, str, int]] = set()

    def periods(self, twin_id: str, spec: PeriodSpec, start: int, end: int) -> list[Period]:
        """The periods of a query overlapping [start, end) (``None``: exactly that window)."""
        calendar = self.engine.plant.calendar(twin_id)
        if isinstance(spec, Every):
            if (end - start) // spec.width + 1 > self.max_periods:
                msg = (
                    f"buckets of {spec.name} over this range make more than {self.max_periods} "
                    "periods; choose a wider 'every' or a shorter range"
                )
                raise QueryError(msg)
            return bucket_periods(spec.width, spec.name, start, end)
        if end - start > self.max_periods * 86_400 * NS_PER_S:  # before walking the calendar
            what = "one window" if spec in (None, PeriodKind.RANGE) else f"{spec} periods"
            msg = f"a range over {self.max_periods} days is too long for {what}"
            raise QueryError(msg)
        if spec is None or spec is PeriodKind.RANGE:
            return [range_period(start, end)]
        if spec is PeriodKind.SHIFT:
            found = shift_periods(calendar, start, end)
        else:
            found = day_periods(calendar, start, end)
        if len(found) > self.max_periods:
            msg = f"more than {self.max_periods} {spec.value} periods; choose a shorter range"
            raise QueryError(msg)
        return found

    def closed(self, period: Period, now: int) -> bool:
        return period.end + self.settle <= now

    async def query(
        self, twin_id: str, spec: PeriodSpec, start: int, end: int, now: int
    ) -> list[KpiRecord]:
        """Records of every period of the query that has begun, in time order."""
        if not self.engine.has_kpis(twin_id):
            msg = f"twin {twin_id!r} has no KPIs (assets need 'kpi' settings in the plant file)"
            raise QueryError(msg)
        periods = [p for p in self.periods(twin_id, spec, start, end) if p.start < now]
        stored: dict[int, KpiRecord] = {}
        storable = [p for p in periods if p.kind in STORED_KINDS and self.closed(p, now)]
        if storable:
            query = KpiQuery(
                twin=twin_id,
                period=storable[0].name,
                start=storable[0].start,
                end=storable[-1].start + 1,
                limit=len(storable) + 1,
            )
            found = await self.engine.store.kpis(query)
            # a stored record counts only for the same period (a changed calendar differs)
            stored = {r.start: r for r in found if r.end == _end(storable, r.start)}
        missing = [p for p in periods if p.start not in stored or p not in storable]
        computed = await self.engine.compute(twin_id, missing, now) if missing else []
        fresh = [r for r, p in zip(computed, missing, strict=True) if p in storable and _known(r)]
        if fresh:
            await self.engine.store.put_kpis(fresh)
        by_start = {**stored, **{r.start: r for r in computed}}
        return [by_start[p.start] for p in periods if p.start in by_start]

    async def close_periods(self, now: int, lookback_s: float) -> int:
        """Compute and store the closed shifts and days of the last ``lookback_s`` not yet
        stored; returns how many records were written (the runtime's KPI job)."""
        start = now - round(lookback_s * NS_PER_S)
        written = 0
        for twin_id in self.engine.scopes():
            for kind in STORED_KINDS:
                periods = [
                    p for p in self.periods(twin_id, kind, start, now) if self.closed(p, now)
                ]
                if not periods:
                    continue
                query = KpiQuery(
                    twin=twin_id,
                    period=periods[0].name,
                    start=periods[0].start,
                    end=periods[-1].start + 1,
                    limit=len(periods) + 1,
                )
                have = {r.start for r in await self.engine.store.kpis(query)}
                missing = [
                    p
                    for p in periods
                    if p.start not in have and (twin_id, p.name, p.start) not in self._empty
                ]
                if missing:
                    computed = await self.engine.compute(twin_id, missing, now)
                    records = [r for r in computed if _known(r)]
                    self._empty.update(
                        (r.twin, r.period, r.start) for r in computed if not _known(r)
                    )
                    await self.engine.store.put_kpis(records)
                    written += len(records)
        return written


def _end(periods: list[Period], start: int) -> int | None:
    return next((p.end for p in periods if p.start == start), None)


def _known(record: KpiRecord) -> bool:
    """Whether anything was known in the period; a period before the history began is not
    stored (it would be all 'unknown'), so data arriving for it later still counts."""
    return record.inputs.get("pbt_s", 0.0) > 0.0 or record.inputs.get("pq", 0.0) > 0.0

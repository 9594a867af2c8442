"""Shift calendar: shifts across midnight and DST changes, production days, buckets."""

from __future__ import annotations

from datetime import date

import pytest

from plantwin.processing.kpis import KpiEngine, KpiService, PeriodKind
from plantwin.processing.kpis.periods import bucket_periods, day_periods, planned, shift_spans
from plantwin.store import MemoryStore

from .kpi_support import MIN, H, catalog, counter, local, plant, states


def test_night_shift_belongs_to_the_day_it_starts() -> None:
    cal = plant().calendar("berlin.L.m1")
    monday = local("2027-01-18 00:00")
    spans = shift_spans(cal, monday, monday + 24 * H)
    assert [(s.day, s.shift) for s in spans] == [
        (date(2027, 1, 17), "N"),  # Sunday night, running into Monday morning
        (date(2027, 1, 18), "A"),
        (date(2027, 1, 18), "N"),
    ]
    night = spans[-1]
    assert (night.start, night.end) == (local("2027-01-18 22:00"), local("2027-01-19 06:00"))
    days = day_periods(cal, monday, monday + 24 * H)
    assert [(d.label, d.start, d.end) for d in days] == [
        ("2027-01-17", local("2027-01-17 22:00"), local("2027-01-18 06:00")),  # no A on Sunday
        ("2027-01-18", local("2027-01-18 06:00"), local("2027-01-19 06:00")),
    ]
    scheduled, breaks = planned(cal, local("2027-01-18 09:00"), local("2027-01-18 23:00"))
    assert scheduled == [
        (local("2027-01-18 09:00"), local("2027-01-18 14:00")),
        (local("2027-01-18 22:00"), local("2027-01-18 23:00")),
    ]
    assert breaks == [(local("2027-01-18 10:00"), local("2027-01-18 10:30"))]


@pytest.mark.parametrize(
    ("saturday", "hours"),
    [("2027-03-27", 7), ("2027-10-30", 9), ("2027-01-16", 8)],  # spring, autumn, none
)
def test_night_shift_across_a_dst_change(saturday: str, hours: int) -> None:
    cal = plant().calendar("berlin.L.m1")
    start = local(f"{saturday} 22:00")
    (night,) = [s for s in shift_spans(cal, start, start + 1) if s.shift == "N"]
    assert night.start == start
    assert night.end - night.start == hours * H  # 22:00 to 06:00 on the wall clock


def test_buckets_align_to_the_epoch() -> None:
    periods = bucket_periods(H, "PT1H", 5 * H + 10 * MIN, 7 * H)
    assert [(p.start, p.end) for p in periods] == [(5 * H, 6 * H), (6 * H, 7 * H)]


async def test_kpis_of_a_shift_across_midnight_and_a_dst_change() -> None:
    p = plant()
    cat = catalog(p)
    twin = "berlin.L.m1"
    async with MemoryStore() as store:
        await store.register_signals(list(p.signals))
        for night in ("2027-01-18", "2027-03-27"):  # an ordinary night; the spring change
            base = local(f"{night} 22:00")
            steps = [(0, "running"), (180, "down"), (210, "running")]
            await states(store, twin, base, steps)
            # 70 parts at 15:20, between the shifts: outside planned time, never counted;
            # the counter reports at least hourly (a heartbeat at 21:59)
            parts = [
                (-420, 0),
                (-400, 70),
                (-1, 70),
                (120, 170),
                (179, 310),
                (300, 430),
                (419, 620),
            ]
            await counter(store, cat, f"{twin}/part_count", base, parts)
        service = KpiService(KpiEngine(p, cat, store))
        ordinary = local("2027-01-18 22:00")
        shifts = await service.query(
            twin, PeriodKind.SHIFT, ordinary, ordinary + 1, ordinary + 9 * H
        )
        (n,) = [r for r in shifts if r.label == "2027-01-18 N"]
        assert n.inputs["pbt_s"] == 8 * 3600
        assert n.inputs["apt_s"] == (8 * 60 - 30) * 60  # 30 min down after midnight (01:00)
        assert n.values["availability"] == pytest.approx(450 / 480)
        assert n.inputs["pq"] == 550
        spring = local("2027-03-27 22:00")
        (s,) = [
            r
            for r in await service.query(twin, PeriodKind.SHIFT, spring, spring + 1, spring + 9 * H)
            if r.label == "2027-03-27 N"
        ]
        assert s.inputs["pot_s"] == 7 * 3600  # the clock jumps from 02:00 to 03:00
        assert s.values["availability"] == pytest.approx((420 - 30) / 420)
        # the production day 2027-01-18 holds shift A (no states: unknown) and the night
        (day,) = [
            r
            for r in await service.query(
                twin, PeriodKind.DAY, ordinary, ordinary + 1, ordinary + 9 * H
            )
            if r.label == "2027-01-18"
        ]
        assert day.inputs["pot_s"] == 16 * 3600, day
        assert day.inputs["pbt_s"] == 8 * 3600
        assert day.inputs["pq"] == 550  # not the 70 made between the shifts

"""KPIs computed from state changes and counters in a store, checked against hand counts."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from plantwin.core.kpis import KpiQuery
from plantwin.model.catalog import SignalCatalog
from plantwin.model.plant import Plant
from plantwin.processing.kpis import KpiEngine, KpiService, PeriodKind
from plantwin.processing.kpis.formulas import (
    COUNTER_RESET,
    EFFECTIVENESS_ABOVE_1,
    GOOD_ASSUMED,
    STATE_UNKNOWN,
)
from plantwin.processing.kpis.periods import range_period
from plantwin.store import MemoryStore

from .kpi_support import MIN, H, catalog, counter, local, plant, states

# Monday 2027-01-18, shift A 06:00-14:00 Berlin (UTC+1) with a break 10:00-10:30
SHIFT_A = local("2027-01-18 06:00")
LINE = "berlin.L"
M1 = f"{LINE}.m1"


@pytest.fixture
async def setup() -> AsyncIterator[tuple[Plant, SignalCatalog, MemoryStore]]:
    p = plant()
    async with MemoryStore() as store:
        await store.register_signals(list(p.signals))
        yield p, catalog(p), store


async def worked_shift(store: MemoryStore, cat: SignalCatalog, twin: str) -> None:
    """DOMAIN 1.3 as a shift: setup 15, run 120, down 25, run 80, break 30 (idle), run 110,
    idle 20, run 80 minutes; 700 parts made, 680 good, 12 scrap, 8 rework."""
    await states(
        store,
        twin,
        SHIFT_A,
        [(-60, "idle"), (0, "setup"), (15, "running"), (135, "down"), (160, "running"),
         (240, "idle"), (270, "running"), (380, "idle"), (400, "running"), (480, "off")],
    )  # fmt: skip
    for name, before, after in (
        ("part_count", 1000, 1700),
        ("good_count", 500, 1180),
        ("scrap_count", 3, 15),
        ("rework_count", 0, 8),
        ("energy", 0, 340_000),  # Wh
    ):
        key = f"{twin}/{name}"
        await counter(store, cat, key, SHIFT_A, [(-1, before), (100, before), (479, after)])


async def test_worked_check_from_the_store(setup: tuple[Plant, SignalCatalog, MemoryStore]) -> None:
    p, cat, store = setup
    await worked_shift(store, cat, M1)
    engine = KpiEngine(p, cat, store)
    service = KpiService(engine)
    (record,) = await service.query(M1, PeriodKind.SHIFT, SHIFT_A, SHIFT_A + 1, SHIFT_A + 10 * H)
    assert record.label == "2027-01-18 A"
    assert (record.start, record.end) == (SHIFT_A, SHIFT_A + 8 * H)
    i = record.inputs
    assert (i["pot_s"], i["pdot_s"], i["pbt_s"]) == (480 * 60, 30 * 60, 450 * 60)
    assert (i["apt_s"], i["aust_s"], i["adet_s"], i["adot_s"]) == (23400, 900, 1500, 1200)
    assert (i["pq"], i["gq"], i["sq"], i["rq"]) == (700, 680, 12, 8)  # rework in PQ, not GQ
    assert i["failures"] == 1
    v = record.values
    assert v["availability"] == pytest.approx(0.8667, abs=5e-5)
    assert v["effectiveness"] == pytest.approx(0.8974, abs=5e-5)
    assert v["quality"] == pytest.approx(0.9714, abs=5e-5)
    assert v["oee"] == pytest.approx(0.7556, abs=5e-5)
    assert v["nee"] == pytest.approx(0.7846, abs=5e-5)
    assert v["technical_efficiency"] == pytest.approx(0.9398, abs=5e-5)
    assert v["rework_ratio"] == pytest.approx(8 / 700)
    assert v["energy_per_good_kwh"] == pytest.approx(0.5)
    assert v["mttr_h"] == pytest.approx(25 / 60)
    assert record.flags == ()
    # closed: stored once, and served from the store the next time
    stored = await store.kpis(KpiQuery(twin=M1, period="shift", start=0, end=2**62))
    assert [r.start for r in stored] == [SHIFT_A]
    again = await service.query(M1, PeriodKind.SHIFT, SHIFT_A, SHIFT_A + 1, SHIFT_A + 20 * H)
    assert again[0].computed == SHIFT_A + 10 * H  # not recomputed


async def test_planned_downtime_does_not_lower_availability(
    setup: tuple[Plant, SignalCatalog, MemoryStore],
) -> None:
    """The same shift with the break taken as a 'maintenance' state instead: same numbers."""
    p, cat, store = setup
    await worked_shift(store, cat, M1)
    await states(store, M1, SHIFT_A, [(240, "maintenance"), (270, "running"), (480, "idle")])
    engine = KpiEngine(p, cat, store)
    now = SHIFT_A + 13 * H
    (record,) = await engine.compute(M1, [range_period(SHIFT_A, SHIFT_A + 8 * H)], now)
    assert record.inputs["pdot_s"] == 30 * 60  # break and maintenance overlap: counted once
    assert record.values["availability"] == pytest.approx(390 / 450)
    # idle after 14:00 lies outside the calendar's shifts: not planned, not counted
    (longer,) = await engine.compute(M1, [range_period(SHIFT_A, SHIFT_A + 12 * H)], now)
    assert longer.inputs["pot_s"] == 480 * 60
    assert longer.values["availability"] == pytest.approx(390 / 450)
    # 03:00-06:00 is the end of the night shift: idle from 05:00 lowers availability, the
    # two hours before the first recorded state are unknown and left out of PBT
    (earlier,) = await engine.compute(M1, [range_period(SHIFT_A - 3 * H, SHIFT_A + 8 * H)], now)
    assert (earlier.inputs["unknown_s"], earlier.inputs["adot_s"]) == (7200, 1200 + 3600)
    assert earlier.values["availability"] == pytest.approx(390 / 510)
    assert STATE_UNKNOWN in earlier.flags


async def test_planned_state_in_a_24_7_calendar(
    setup: tuple[Plant, SignalCatalog, MemoryStore],
) -> None:
    p, cat, store = setup
    press = "plain.press"
    base = local("2027-01-18 00:00")
    await states(store, press, base, [(0, "running"), (100, "maintenance"), (160, "running"),
                                       (200, "down"), (220, "running")])  # fmt: skip
    engine = KpiEngine(p, cat, store)
    (r,) = await engine.compute(press, [range_period(base, base + 5 * H)], base + 6 * H)
    assert r.inputs["pot_s"] == 5 * 3600
    assert r.inputs["pdot_s"] == 60 * 60
    assert r.values["availability"] == pytest.approx((300 - 60 - 20) / (300 - 60))
    assert r.values["technical_efficiency"] == pytest.approx(220 / 240)


async def test_micro_stops_under_both_thresholds(
    setup: tuple[Plant, SignalCatalog, MemoryStore],
) -> None:
    """Stops of 2 min (down) and 4 min (idle) are ADET/ADOT under strict ISO, production time
    with a 300 s threshold; a 10 min stop is a failure under both."""
    p, cat, store = setup
    steps = [(0, "running"), (60, "down"), (62, "running"), (120, "idle"), (124, "running"),
             (200, "down"), (210, "running")]  # fmt: skip
    strict, nakajima = M1, f"{LINE}.nakajima"
    for twin in (strict, nakajima):
        await states(store, twin, SHIFT_A, steps)
    engine = KpiEngine(p, cat, store)
    window = [range_period(SHIFT_A, SHIFT_A + 4 * H)]  # before the break
    (iso,) = await engine.compute(strict, window, SHIFT_A + 9 * H)
    (naka,) = await engine.compute(nakajima, window, SHIFT_A + 9 * H)
    assert (iso.inputs["adet_s"], iso.inputs["adot_s"], iso.inputs["failures"]) == (720, 240, 2)
    assert iso.values["availability"] == pytest.approx((240 - 16) / 240)
    assert (naka.inputs["adet_s"], naka.inputs["adot_s"], naka.inputs["failures"]) == (600, 0, 1)
    assert naka.inputs["minor_stop_s"] == 360
    assert naka.values["availability"] == pytest.approx((240 - 10) / 240)
    assert naka.values["technical_efficiency"] == pytest.approx(230 / 240)
    # a short stop crossing the window's edge is judged by its whole length (6 min): a stop
    (edge,) = await engine.compute(
        nakajima, [range_period(SHIFT_A, SHIFT_A + 122 * MIN)], SHIFT_A + 9 * H
    )
    assert edge.inputs["adot_s"] == 0  # 2 of its 4 minutes fall inside, still minor
    assert edge.inputs["minor_stop_s"] == 120 + 120


async def test_mtbf_and_mttr_with_both_divisors(
    setup: tuple[Plant, SignalCatalog, MemoryStore],
) -> None:
    p, cat, store = setup
    steps = [(0, "setup"), (20, "running"), (100, "down"), (130, "running"), (200, "down"),
             (210, "idle"), (220, "running")]  # fmt: skip
    for twin in (M1, f"{LINE}.plus_one"):
        await states(store, twin, SHIFT_A, steps)
    engine = KpiEngine(p, cat, store)
    window = [range_period(SHIFT_A, SHIFT_A + 4 * H)]
    (fe,) = await engine.compute(M1, window, SHIFT_A + 9 * H)
    (fe1,) = await engine.compute(f"{LINE}.plus_one", window, SHIFT_A + 9 * H)
    operating_h = (240 - 40 - 10) / 60  # setup + production: 20 + 170 min
    assert fe.inputs["failures"] == fe1.inputs["failures"] == 2
    assert fe.values["mtbf_h"] == pytest.approx(operating_h / 2)
    assert fe1.values["mtbf_h"] == pytest.approx(operating_h / 3)
    assert fe.values["mttr_h"] == fe1.values["mttr_h"] == pytest.approx(40 / 60 / 2)


async def test_counters_reset_and_missing_good_counter(
    setup: tuple[Plant, SignalCatalog, MemoryStore],
) -> None:
    p, cat, store = setup
    twin = f"{LINE}.counts_only"
    await states(store, twin, SHIFT_A, [(0, "running")])
    # the PLC restarts at minute 100 and counts from zero again
    await counter(store, cat, f"{twin}/part_count", SHIFT_A,
                  [(-5, 40), (50, 140), (99, 240), (101, 2), (200, 202)])  # fmt: skip
    engine = KpiEngine(p, cat, store)
    (r,) = await engine.compute(twin, [range_period(SHIFT_A, SHIFT_A + 4 * H)], SHIFT_A + 9 * H)
    assert r.inputs["pq"] == 200 + 202
    assert r.inputs["gq"] == r.inputs["pq"]  # no good/scrap counter: GQ = PQ, said so
    assert GOOD_ASSUMED in r.flags
    assert COUNTER_RESET in r.flags
    # PRU 30 s x 402 parts in 240 min of production: E = 0.8375
    assert r.values["effectiveness"] == pytest.approx(30 * 402 / (240 * 60))
    fast = f"{LINE}.m2"  # PRU 60 s: more parts than the plan allows
    await states(store, fast, SHIFT_A, [(0, "running")])
    await counter(store, cat, f"{fast}/part_count", SHIFT_A, [(-1, 0), (59, 100)])
    (f,) = await engine.compute(fast, [range_period(SHIFT_A, SHIFT_A + H)], SHIFT_A + 9 * H)
    assert f.values["effectiveness"] == pytest.approx(100 / 60)  # never clamped
    assert EFFECTIVENESS_ABOVE_1 in f.flags


async def test_line_aggregates_its_machines(
    setup: tuple[Plant, SignalCatalog, MemoryStore],
) -> None:
    p, cat, store = setup
    await worked_shift(store, cat, M1)
    m2 = f"{LINE}.m2"
    await states(store, m2, SHIFT_A, [(0, "running"), (300, "down"), (360, "running")])
    await counter(store, cat, f"{m2}/part_count", SHIFT_A, [(-1, 0), (479, 350)])
    await counter(store, cat, f"{m2}/good_count", SHIFT_A, [(-1, 0), (479, 340)])
    await counter(store, cat, f"{m2}/scrap_count", SHIFT_A, [(-1, 0), (479, 10)])
    service = KpiService(KpiEngine(p, cat, store))
    now = SHIFT_A + 10 * H
    (line,) = await service.query(LINE, PeriodKind.SHIFT, SHIFT_A, SHIFT_A + 1, now)
    (site,) = await service.query("berlin", PeriodKind.SHIFT, SHIFT_A, SHIFT_A + 1, now)
    # m2: PBT 450 min (break), APT 390 (60 min down), PRU 60 s: 350 parts, 340 good
    pbt = 450 + 450
    assert line.inputs["pbt_s"] == pbt * 60
    assert line.values["availability"] == pytest.approx((390 + 390) / pbt)
    assert line.values["oee"] == pytest.approx((0.5 * 680 + 1.0 * 340) / pbt)
    assert line.inputs["pq"] == 350  # the line's output is m2
    assert line.values["scrap_ratio"] == pytest.approx(10 / 350)
    assert site.values["oee"] == pytest.approx(line.values["oee"])
    assert site.inputs["pq"] == 350


async def test_open_shift_is_computed_to_now_and_not_stored(
    setup: tuple[Plant, SignalCatalog, MemoryStore],
) -> None:
    p, cat, store = setup
    await worked_shift(store, cat, M1)
    service = KpiService(KpiEngine(p, cat, store))
    now = SHIFT_A + 150 * MIN  # shift-to-date: setup 15, run 120, down 15 so far
    (r,) = await service.query(M1, PeriodKind.SHIFT, now, now, now)
    assert r.end == SHIFT_A + 8 * H
    assert r.inputs["pbt_s"] == 150 * 60
    assert r.values["availability"] == pytest.approx(120 / 150)
    assert await store.kpis(KpiQuery(twin=M1, period="shift", start=0, end=2**62)) == []
    assert await service.close_periods(SHIFT_A + 10 * H, lookback_s=86_400) > 0
    assert len(await store.kpis(KpiQuery(twin=M1, period="shift", start=0, end=2**62))) >= 1

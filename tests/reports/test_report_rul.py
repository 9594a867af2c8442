"""The RUL outlook section with a RUL signal, on the reference MemoryStore (fast)."""

from __future__ import annotations

from datetime import date

from plantwin.core.samples import SampleBatch
from plantwin.model.catalog import SignalCatalog
from plantwin.model.loader import parse_plant
from plantwin.reports import NO_RUL, gather, render_html, report_period
from plantwin.store import MemoryStore
from tests.processing import kpi_support as k

PLANT = k.PLANT.replace(
    "      energy: {unit: Wh, counter: true}\n",
    "      energy: {unit: Wh, counter: true}\n      rul: {unit: h}\n",
    1,
)


async def test_rul_outlook_shows_the_last_value_of_each_rul_signal() -> None:
    plant = parse_plant(PLANT, "rul.yaml")
    day = date(2026, 11, 26)  # a Thursday: shift A and the night shift N
    period = report_period(plant, "berlin.L", day, None)
    base = k.local("2026-11-26 06:00")
    async with MemoryStore() as store:
        catalog = SignalCatalog(plant, await store.register_signals(list(plant.signals)))
        await k.states(
            store, "berlin.L.m1", base, [(0, "running"), (120, "down"), (150, "running")]
        )
        await k.counter(store, catalog, "berlin.L.m1/part_count", base, [(0, 0), (480, 900)])
        rul = catalog.id("berlin.L.m1/rul")
        await store.append(SampleBatch.of([rul, rul], [base + k.H, base + 5 * k.H], [900.0, 640.0]))
        data = await gather(plant, catalog, store, "berlin.L", period, period.end + k.H)
    assert data.rul_signals == 5  # every machine type on the line has one
    assert [(r.twin, r.value, r.unit) for r in data.rul] == [("berlin.L.m1", 640.0, "h")]
    (down,) = [d for d in data.downtime if d.twin == "berlin.L.m1"]
    assert (down.state, down.seconds) == ("down", 30 * 60)
    html = render_html(data)
    assert NO_RUL not in html
    assert "640.0 h" in html


async def test_a_scope_without_rul_signals_says_so() -> None:
    plant = k.plant()
    period = report_period(plant, "berlin.L.m1", date(2026, 11, 26), "A")
    async with MemoryStore() as store:
        catalog = SignalCatalog(plant, await store.register_signals(list(plant.signals)))
        data = await gather(plant, catalog, store, "berlin.L.m1", period, period.end)
    assert data.rul_signals == 0
    assert f"{NO_RUL} for" in render_html(data)

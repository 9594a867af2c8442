"""The runtime's KPI job stores the KPIs of closed shifts and days once, while it serves."""

from __future__ import annotations

import time
from pathlib import Path

from plantwin.core.kpis import KpiQuery
from plantwin.core.records import StateChange
from plantwin.core.samples import SampleBatch
from plantwin.model.loader import load_plant
from plantwin.runtime import Runtime, Settings
from plantwin.store import DuckDBStore
from tests.conftest import EXAMPLE
from tests.runtime.demo_process import free_port

S = 1_000_000_000
H = 3600 * S
MILL = "changwon.L1.mill1"


async def test_closed_shifts_are_stored_by_the_runtime(tmp_path: Path) -> None:
    path = tmp_path / "k.duckdb"
    plant = load_plant(EXAMPLE)
    now = time.time_ns()
    past = now - 30 * H  # a day and more of history, ending six hours ago
    async with DuckDBStore(path=path) as store:
        ids = await store.register_signals(list(plant.signals))
        await store.append_records(
            [
                StateChange(ts=past, twin=MILL, state="running", previous=None),
                StateChange(ts=past + 10 * H, twin=MILL, state="down", previous="running"),
                StateChange(ts=past + 11 * H, twin=MILL, state="running", previous="down"),
                StateChange(ts=now - 6 * H, twin=MILL, state="off", previous="running"),
            ]
        )
        parts = ids[f"{MILL}/part_count"]
        await store.append(
            SampleBatch.of([parts] * 3, [past, past + 12 * H, now - 6 * H], [0, 480, 960])
        )
    settings = Settings(plant=EXAMPLE, store=str(path), port=free_port(), kpi_every=0.2)
    async with Runtime(settings) as runtime:
        await runtime.serve(duration=1.5)
        query = KpiQuery(twin=MILL, period="shift", start=now - 3 * 86_400 * S, end=now)
        shifts = await runtime.store.kpis(query)
        days = await runtime.store.kpis(KpiQuery(twin=MILL, period="day", start=0, end=now))
        line = await runtime.store.kpis(
            KpiQuery(twin="changwon.L1", period="shift", start=0, end=now)
        )
    # the shifts wholly inside the 24 h of history are stored, each once, all final
    full = [r for r in shifts if past <= r.start and r.end <= now - 6 * H]
    assert len(full) >= 2
    assert all(r.computed >= r.end for r in shifts)
    assert all(r.inputs["pot_s"] == 8 * 3600 for r in full)
    assert len({r.start for r in shifts}) == len(shifts)
    assert sum(r.inputs["adet_s"] for r in shifts) == 3600  # the one hour down
    assert {r.start for r in line} == {r.start for r in shifts}
    assert days  # production days that have ended

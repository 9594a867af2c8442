"""The composition root in process: retention by age while the demo runs."""

from __future__ import annotations

from pathlib import Path

from plantwin.core.clock import NS_PER_S
from plantwin.core.store import HistoryQuery
from plantwin.runtime import Runtime, Settings
from tests.conftest import EXAMPLE
from tests.runtime.demo_process import free_port

DAYS = 20 / 86_400  # keep 20 s of plant time


async def test_retention_prunes_history_older_than_the_window(tmp_path: Path) -> None:
    settings = Settings(
        plant=EXAMPLE,
        store=str(tmp_path / "r.duckdb"),
        port=free_port(),
        demo=True,
        speed=120.0,
        retention_days=DAYS,
        retention_every=0.5,
    )
    async with Runtime(settings) as runtime:
        start = runtime.clock.now_ns()
        await runtime.serve(duration=4.0)  # about 8 plant minutes
        end = runtime.clock.now_ns()
        sid = runtime.catalog.id("changwon.meter1/power")
        history = await runtime.store.history(
            HistoryQuery(signal=sid, start=start, end=end + NS_PER_S)
        )
    assert end - start > 300 * NS_PER_S
    oldest = int(history.ts.min())
    # What is left starts within the window (plus one retention period of plant time).
    assert oldest >= end - int((20 + 0.5 * 120 + 10) * NS_PER_S)
    assert len(history) < 150

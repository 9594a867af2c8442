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
        in_process=True,  # retention by plant time, not the OPC UA transport, is tested here
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
    # Without retention the history would reach back to the start; with it, what is left
    # lies within the window plus the plant time between retention runs (0.5 s x 120 = 60 s),
    # with room for a loaded CI machine.
    assert oldest > start + 120 * NS_PER_S
    assert oldest >= end - 240 * NS_PER_S
    assert len(history) < 250

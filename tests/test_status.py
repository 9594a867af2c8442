"""The live status table of `plantwin demo` shows today's OEE with A/P/Q per machine."""

from __future__ import annotations

import io
from pathlib import Path

from rich.console import Console

from plantwin.cli.status import StatusView, spool_summary
from plantwin.core.store import StoreStats
from plantwin.runtime import Runtime, Settings
from tests.conftest import EXAMPLE
from tests.runtime.demo_process import free_port


async def test_status_shows_oee_per_machine_and_for_the_line(tmp_path: Path) -> None:
    settings = Settings(
        plant=EXAMPLE, store=str(tmp_path / "s.duckdb"), port=free_port(), demo=True, speed=600.0
    )
    out = io.StringIO()
    async with Runtime(settings) as runtime:
        view = StatusView(runtime, Console(file=out, width=200), refresh_s=0.1)
        view.kpi_every_s = 0.2
        await view.run(runtime.serve(duration=3.0))  # about half an hour of plant time
        table = Console(file=io.StringIO(), width=250, record=True)
        table.print(view.render())
        text = table.export_text()
    assert {"changwon.L1.mill1", "changwon.L1.cmm1", "changwon.L1"} <= set(view.kpis)
    mill = view.kpis["changwon.L1.mill1"]
    assert mill.period == "day"
    assert mill.inputs["pbt_s"] > 0
    mill_row = next(line for line in text.splitlines() if "CNC mill 1" in line)
    assert "OEE " in mill_row
    assert "(A " in mill_row
    assert "/P " in mill_row
    assert "/Q " in mill_row
    assert "today (ISO 22400)" in text
    assert "L1 OEE " in out.getvalue()  # the plain progress lines carry the line's OEE


def test_the_status_line_shows_the_spool_only_while_it_matters() -> None:
    quiet = StoreStats(committed_samples=5, pending_samples=0, duplicates_dropped=0, flushes=1)
    assert spool_summary(quiet) == ""
    busy = StoreStats(
        committed_samples=5,
        pending_samples=0,
        duplicates_dropped=0,
        flushes=1,
        spooled_samples=1200,
        spooled_bytes=30_000,
        spool_oldest_age_s=12.4,
        spool_dropped=7,
    )
    assert spool_summary(busy) == " spooled 1200 (29 KiB, oldest 12 s, 7 dropped)"

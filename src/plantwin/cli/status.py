"""The live status table printed while the twin runs (plain lines when not on a terminal)."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any

from rich.console import Console, Group
from rich.live import Live
from rich.table import Table
from rich.text import Text

from plantwin.core.clock import iso
from plantwin.core.errors import PlantwinError
from plantwin.core.kpis import KpiRecord
from plantwin.core.store import StoreStats
from plantwin.model.plant import TwinKind
from plantwin.model.schema import Priority, StateCategory
from plantwin.processing.alarms import PRIORITY_RANK
from plantwin.processing.kpis import PeriodKind
from plantwin.store.rules import in_twin

if TYPE_CHECKING:
    from plantwin.runtime import Runtime

# Signals worth a glance, in order of preference, wherever they sit in an asset.
KEY_SIGNALS = (
    "power",
    "vibration",
    "bearing_temp",
    "wear",
    "part_count",
    "good_count",
    "scrap_count",
    "level",
    "pressure",
    "flow",
    "tank_temp",
)
COLOURS = {
    StateCategory.PRODUCTION: "green",
    StateCategory.IDLE: "yellow",
    StateCategory.SETUP: "cyan",
    StateCategory.FAULT: "bold red",
    StateCategory.PLANNED: "magenta",
    StateCategory.OFF: "dim",
}
PRIORITY_COLOURS = {
    Priority.CRITICAL: "bold white on red",
    Priority.HIGH: "bold red",
    Priority.MEDIUM: "yellow",
    Priority.LOW: "cyan",
}


class StatusView:
    def __init__(self, runtime: Runtime, console: Console, refresh_s: float = 1.0) -> None:
        self.runtime = runtime
        self.console = console
        self.refresh_s = refresh_s
        self._last = (time.monotonic(), 0)
        self.rate = 0.0
        self.kpis: dict[str, KpiRecord] = {}  # twin id -> KPIs of the current production day
        self.kpi_every_s = 5.0

    async def run(self, work: Coroutine[Any, Any, None]) -> None:
        settings = self.runtime.settings
        url = f"http://{settings.host}:{settings.port}"
        server = self.runtime.demo_server
        opcua = "" if server is None else f", machines on OPC UA {server.endpoint}"
        self.console.print(
            f"plantwin: [bold]{self.runtime.plant.name}[/] - dashboard {url}/, "
            f"API {url}/api/v1/twins, docs {url}/docs, store {settings.store}{opcua}. "
            "Ctrl-C stops.",
            highlight=False,
        )
        for name, why in self.runtime.skipped.items():
            self.console.print(f"connector {name} not started: {why}", style="yellow")
        for notice in self.runtime.notices:
            self.console.print(notice, style="yellow", markup=False)
        task = asyncio.create_task(work)
        kpis = asyncio.create_task(self._refresh_kpis(task))
        if self.console.is_terminal:
            with Live(self.render(), console=self.console, refresh_per_second=2) as live:
                while not task.done():
                    await self._wait(task)
                    live.update(self.render())
        else:
            ticks = 0
            while not task.done():
                await self._wait(task)
                ticks += 1
                if ticks % 10 == 0 or task.done():
                    self.console.print(self.line(), highlight=False)
        await kpis
        await task

    async def _refresh_kpis(self, work: asyncio.Task[None]) -> None:
        """OEE of today (the open production day, computed to now) every few seconds."""
        service = self.runtime.kpis
        while not work.done():
            now = self.runtime.clock.now_ns()
            for twin_id in service.engine.scopes():
                try:
                    found = await service.query(twin_id, PeriodKind.DAY, now, now + 1, now)
                except PlantwinError:  # the store is closing or unwell: keep the last figures
                    return
                if found:
                    self.kpis[twin_id] = found[-1]
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(work), self.kpi_every_s)

    def oee(self, twin_id: str) -> str:
        """'OEE 66% (A 80/P 99/Q 100)' of today, or '' before anything is known."""
        record = self.kpis.get(twin_id)
        if record is None or record.values.get("oee") is None:
            return ""
        v = record.values
        parts = "/".join(
            f"{label} {100 * x:.0f}" if x is not None else f"{label} -"
            for label, x in (
                ("A", v.get("availability")),
                ("P", v.get("effectiveness")),
                ("Q", v.get("quality")),
            )
        )
        return f"OEE {100 * (v['oee'] or 0.0):.0f}% ({parts})"

    async def _wait(self, task: asyncio.Task[None]) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(task), self.refresh_s)
        now, count = time.monotonic(), self.runtime.pipeline.stats.samples
        then, before = self._last
        if now > then:
            self.rate = (count - before) / (now - then)
        self._last = (now, count)

    def line(self) -> str:
        stats = self.runtime.store.stats()
        states = self.runtime.twin.states.status
        down = [t for t, s in states.items() if s.state and s.state.category is StateCategory.FAULT]
        return (
            f"{iso(self.runtime.clock.now_ns())} samples {self.runtime.pipeline.stats.samples}"
            f" ({self.rate:.0f}/s) committed {stats.committed_samples}{spool_summary(stats)}"
            f" dead letters {self.runtime.pipeline.stats.dead_letters}"
            f" down: {', '.join(d.rsplit('.', 1)[-1] for d in down) or 'none'}"
            f" alarms: {self._alarm_counts()}"
            + "".join(
                f" {t.rsplit('.', 1)[-1]} {self.oee(t)}"
                for t in self.kpis
                if self.runtime.plant.twins[t].kind is TwinKind.LINE and self.oee(t)
            )
        )

    def _alarm_counts(self) -> str:
        board = self.runtime.rules.board
        counts = board.counts()
        shown = " ".join(f"{n} {p}" for p, n in counts.items() if n) or "none"
        return shown + (" (FLOOD)" if board.flood_since else "")

    def _alarms(self, twin_id: str) -> Text:
        """Visible alarms at or below the twin: how many, and the most urgent one."""
        points = [
            p
            for p in self.runtime.rules.board.points.values()
            if p.visible and in_twin(p.rule.twin, twin_id)
        ]
        if not points:
            return Text("")
        top = max(points, key=lambda p: (PRIORITY_RANK[p.rule.priority], not p.acked))
        label = top.rule.name + ("" if top.acked else " (unack)")
        more = f" +{len(points) - 1}" if len(points) > 1 else ""
        return Text(label + more, style=PRIORITY_COLOURS[top.rule.priority])

    def render(self) -> Group:
        runtime = self.runtime
        table = Table(expand=False, header_style="bold")
        for column in ("asset", "state", "since", "alarms", "key values", "today (ISO 22400)"):
            table.add_column(column)
        now = runtime.clock.now_ns()
        for twin in runtime.plant.twins.values():
            if twin.kind not in (TwinKind.ASSET, TwinKind.LINE):
                continue
            view = runtime.twin.view(twin.id)
            status = runtime.twin.states.status[twin.id]
            category = view.state.category if view.state else status.rollup
            label = view.state.name if view.state else (category.value if category else "-")
            since = view.state.since if view.state else status.rollup_since
            state = Text(label, style=COLOURS.get(category, "") if category else "dim")
            ago = f"{(now - since) / 60e9:.0f} min" if since else ""
            alarms = self._alarms(twin.id) if twin.kind is TwinKind.ASSET else Text("")
            table.add_row(twin.name, state, ago, alarms, self._values(twin.id), self.oee(twin.id))
        return Group(Text(self.line(), style="dim"), table)

    def _values(self, twin_id: str) -> str:
        runtime = self.runtime
        found: dict[str, str] = {}
        for twin in runtime.plant.walk(twin_id):
            if twin.kind is TwinKind.ASSET and twin.id != twin_id:
                break
            for value in runtime.twin.view(twin.id).signals:
                if (
                    value.name in KEY_SIGNALS
                    and value.name not in found
                    and value.value is not None
                ):
                    found[value.name] = f"{value.name} {value.value:.4g} {value.unit}"
        ordered = [found[k] for k in KEY_SIGNALS if k in found]
        return "  ".join(ordered[:4])


def spool_summary(stats: StoreStats) -> str:
    """The store-and-forward spool, while it holds anything or has dropped samples."""
    if not (stats.spooled_samples or stats.spool_dropped):
        return ""
    dropped = f", {stats.spool_dropped} dropped" if stats.spool_dropped else ""
    return (
        f" spooled {stats.spooled_samples} ({stats.spooled_bytes // 1024} KiB, oldest "
        f"{stats.spool_oldest_age_s:.0f} s{dropped})"
    )

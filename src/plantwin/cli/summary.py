"""Summaries for the terminal: a valid plant file as a tree, a finished replay as lines."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.tree import Tree

from plantwin.core.clock import iso
from plantwin.model.plant import Plant, Twin

if TYPE_CHECKING:
    from plantwin.runtime.replay import ReplaySummary


def plant_tree(plant: Plant) -> Tree:
    derived = sum(1 for s in plant.signals.values() if s.derived is not None)
    windowed = sum(1 for s in plant.signals.values() if s.window is not None)
    commands = sum(len(t.commands) for t in plant.twins.values())
    rules = list(plant.rules())
    alarms = sum(1 for r in rules if r.alarm)
    connectors = sorted({b.connector for b in plant.bindings})
    root = Tree(
        f"[bold]{plant.name}[/]: {len(plant.twins)} twins, {len(plant.signals)} signals "
        f"({derived} derived, {windowed} windowed), {len(rules)} rules ({alarms} alarms), "
        f"{commands} commands, {len(plant.bindings)} bindings over "
        f"{', '.join(connectors) or 'no connectors'}"
    )

    def add(parent: Tree, twin: Twin) -> None:
        own = [plant.signals[k] for k in twin.signals]
        parts = [f"{len(own)} signals"] if own else []
        if twin.states is not None:
            parts.append("states " + "/".join(s.name for s in twin.states.states))
        if twin.commands:
            parts.append("commands " + ", ".join(c.name for c in twin.commands))
        kind = f"{twin.kind.value}" + (f" {twin.type}" if twin.type else "")
        label = f"[bold]{twin.id.rsplit('.', 1)[-1]}[/] [dim]({kind})[/] {twin.name}"
        node = parent.add(label + (f" [dim]- {'; '.join(parts)}[/]" if parts else ""))
        for child in twin.children:
            add(node, plant.twins[child])

    for twin in plant.roots():
        add(root, twin)
    return root


def replay_lines(summary: ReplaySummary, store: str) -> list[str]:
    rate = summary.rows / summary.seconds if summary.seconds > 0 else 0.0
    span = (
        f"{iso(summary.first)} .. {iso(summary.last)}"
        if summary.first is not None and summary.last is not None
        else "no samples"
    )
    lines = [
        f"replayed {summary.file} through connector '{summary.connector}' into {store}",
        f"  rows          {summary.rows:,}" + (" (sorted by time)" if summary.reordered else ""),
        f"  samples       {summary.samples:,} read, {summary.stored:,} stored "
        f"({summary.derived:,} derived, {summary.duplicates:,} already stored)",
        f"  dead letters  {summary.dead_letters:,}",
        f"  time range    {span}",
        f"  seconds       {summary.seconds:.2f} ({rate:,.0f} rows/s)",
    ]
    for letter in summary.first_dead:
        lines.append(f"  dead letter   {letter.location}: {letter.reason}")
    if summary.dead_letters > len(summary.first_dead):
        lines.append("  (all dead letters are in the store's dead_letters table)")
    return lines

"""A rich tree summarising a valid plant file."""

from __future__ import annotations

from rich.tree import Tree

from plantwin.model.plant import Plant, Twin


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

"""Load a plant file: structure, then meaning; every problem reported with file and line."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path as FilePath
from typing import Any
from urllib.parse import urlsplit

from plantwin.model.bindings import resolve_bindings, resolve_command_binding
from plantwin.model.commands import resolve_closed_loop
from plantwin.model.derived import resolve_derived
from plantwin.model.fmus import resolve_fmus
from plantwin.model.health import resolve_health
from plantwin.model.kpi_settings import resolve_kpis
from plantwin.model.layers import Located
from plantwin.model.plant import ConnectorDef, NotificationDef, Plant, Twin
from plantwin.model.predict import resolve_predict
from plantwin.model.problems import PlantFileError, ProblemLog
from plantwin.model.resolve import TreeBuilder
from plantwin.model.rul import resolve_rul
from plantwin.model.rules import resolve_rules
from plantwin.model.structure import check_structure
from plantwin.model.windows import resolve_windows
from plantwin.model.yaml_source import load_yaml, read_yaml_file

# Connector kinds a plant file may declare; the runtime says which it can start.
CONNECTOR_KINDS = ("demo", "opcua", "mqtt", "sparkplug", "http", "replay")


def load_plant(path: str | FilePath) -> Plant:
    """The plant described by the YAML file at ``path``.

    Raises:
        PlantFileError: with every problem found, each with file, line and path.
    """
    file_path = FilePath(path)
    data, lines, problems = read_yaml_file(file_path)
    return _build(data, lines, problems, str(path))


def parse_plant(text: str, filename: str = "<plant>") -> Plant:
    data, lines, problems = load_yaml(text)
    return _build(data, lines, problems, filename)


def _build(data: Any, lines: dict[Any, int], problems: list[Any], filename: str) -> Plant:
    if problems:
        raise PlantFileError(filename, problems)
    log = ProblemLog(lines)
    parts = check_structure(data, log)
    connectors: dict[str, ConnectorDef] = {}
    for name, spec in parts.connectors.items():
        if spec.kind not in CONNECTOR_KINDS:
            kinds = ", ".join(CONNECTOR_KINDS)
            log.add(("connectors", name, "kind"), f"unknown connector kind '{spec.kind}' ({kinds})")
        options = dict(spec.model_extra or {})
        connectors[name] = ConnectorDef(
            name=name,
            kind=spec.kind,
            description=spec.description,
            options=options,
            source=filename,
        )
    tree = TreeBuilder(parts, log)
    tree.build()
    # FMU outputs and residuals are signals before expressions and windows are resolved, so
    # those may read them (the twin computes them when the FMU's samples arrive).
    fmus, fmu_signals = resolve_fmus(parts.fmus, tree, FilePath(filename).parent, log)
    resolve_derived(tree.derived, tree.twins, tree.signals, tree.broken, log)
    state_signals = {d.states.signal for d in tree.twins.values() if d.states is not None}
    resolve_windows(tree.windows, tree.signals, tree.broken, log, state_signals)
    derived = {key for key, sig in tree.signals.items() if sig.derived is not None}
    derived |= {p.key for p in tree.derived} | {key for key, _, _ in tree.windows}
    derived |= fmu_signals
    resolve_health(tree.health, tree.signals, tree.broken, log)
    derived |= {key for key, _, _ in tree.health}
    # A signal has one writer: a model-version or interval signal computed another way
    # too would reach the twin twice (runtime/pipeline.py merges health samples unsorted).
    predicted = {key for key, _, _ in tree.predict}
    derived |= resolve_predict(tree.predict, tree.signals, tree.broken, log, derived | predicted)
    derived |= predicted
    derived |= resolve_rul(tree.rul, tree.signals, tree.broken, log, derived)
    rules = resolve_rules(tree.twins, tree.signals, tree.broken, log)
    kpis = resolve_kpis(tree.twins, tree.signals, tree.broken, tree.line_kpis, log)
    bindings = list(resolve_bindings(tree.twins, tree.signals, derived, connectors, log))
    twins: dict[str, Twin] = {}
    for draft in tree.twins.values():
        commands = []
        for command in draft.commands:
            declared = draft.effective.commands[command.name]
            command = resolve_closed_loop(  # noqa: PLW2901
                command, declared, tree.twins, tree.signals, tree.broken, log
            )
            if declared.value.binding is not None:
                located = Located(declared.value.binding, (*declared.path, "binding"))
                binding = resolve_command_binding(command, draft, located, connectors, log)
                command = replace(command, binding=binding)  # noqa: PLW2901
                if binding is not None:
                    bindings.append(binding)
            commands.append(command)
        eff = draft.effective
        twins[draft.id] = Twin(
            id=draft.id,
            kind=draft.kind,
            name=eff.display_name or draft.id.rsplit(".", 1)[-1],
            type=eff.type_name,
            parent=draft.parent,
            children=tuple(draft.children),
            description=eff.description,
            properties=draft.properties(),
            signals=tuple(s for s in draft.signals if s in tree.signals),
            states=draft.states,
            commands=tuple(commands),
            position=draft.position,
            rules=rules.get(draft.id, ()),
            kpi=kpis.get(draft.id),
        )
    if parts.header is not None:
        for name, note in parts.header.notifications.items():
            problem = _url_problem(note.url)
            if problem:
                log.add(("notifications", name, "url"), problem)
    if log:
        raise PlantFileError(filename, log.sorted())
    header = parts.header
    assert header is not None  # a missing header is a logged problem
    ordered = {key: tree.signals[key] for twin in twins.values() for key in twin.signals}
    return Plant(
        name=header.name,
        description=header.description,
        source=filename,
        twins=twins,
        signals=ordered,
        bindings=tuple(bindings),
        connectors=connectors,
        timezones=dict(tree.timezones),
        notifications={
            name: NotificationDef(
                name=name,
                url=spec.url,
                min_priority=spec.min_priority,
                timeout=spec.timeout,
                retries=spec.retries,
            )
            for name, spec in header.notifications.items()
        },
        calendars=dict(tree.calendars),
        fmus=fmus,
    )


def _url_problem(url: str) -> str | None:
    """Why ``url`` cannot take webhook POSTs, or None when it can."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises on a malformed port
    except ValueError as err:
        return f"not a URL: {err}"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return f"'{url}' is not an http(s) URL with a host (e.g. https://hooks.example.com/x)"
    return None

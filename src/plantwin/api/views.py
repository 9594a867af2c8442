"""Live twin views turned into response schemas."""

from __future__ import annotations

from plantwin.api.schemas import (
    CommandOut,
    InterlockOut,
    ParamOut,
    RollupOut,
    SignalOut,
    StateOut,
    TwinDetail,
)
from plantwin.core.clock import iso
from plantwin.core.samples import Quality
from plantwin.model.plant import CommandDef, Plant
from plantwin.twin import SignalValue, TwinView


def _time(ns: int | None) -> str | None:
    return iso(ns) if ns is not None else None


def quality_flags(quality: Quality) -> list[str]:
    """Names of the flags set, e.g. ['uncertain', 'out_of_range']; empty when good."""
    return [flag.name.lower() for flag in Quality if flag and flag in quality and flag.name]


def signal_out(value: SignalValue, plant: Plant) -> SignalOut:
    sig = plant.signals[value.key]
    return SignalOut(
        name=value.name,
        key=value.key,
        unit=value.unit,
        value=value.value,
        time=_time(value.ts),
        quality=quality_flags(value.quality),
        derived=sig.derived is not None,
        range=(sig.low, sig.high),
    )


def command_out(command: CommandDef) -> CommandOut:
    return CommandOut(
        name=command.name,
        description=command.description,
        params=[
            ParamOut(
                name=p.name,
                type=p.dtype,
                unit=p.unit,
                min=p.low,
                max=p.high,
                choices=list(p.choices) if p.choices is not None else None,
            )
            for p in command.params
        ],
        allowed_states=(
            list(command.allowed_states) if command.allowed_states is not None else None
        ),
        critical=command.critical,
        reports=None if command.reports is None else command.reports.signal,
        timeout_s=None if command.reports is None else command.timeout_ns / 1e9,
        interlocks=[InterlockOut(when=i.when, message=i.message) for i in command.interlocks],
    )


def twin_detail(view: TwinView, plant: Plant) -> TwinDetail:
    twin = view.twin
    state = None
    if view.state is not None:
        state = StateOut(
            name=view.state.name, category=view.state.category.value, since=_time(view.state.since)
        )
    rollup = view.rollup
    return TwinDetail(
        id=twin.id,
        name=twin.name,
        kind=twin.kind.value,
        type=twin.type,
        parent=twin.parent,
        children=list(twin.children),
        description=twin.description,
        properties={
            k: v if isinstance(v, int | float | bool) else str(v)
            for k, v in view.properties.items()
        },
        position=list(twin.position) if twin.position is not None else None,
        state=state,
        rollup=RollupOut(
            category=rollup.category.value if rollup.category else None,
            since=_time(rollup.since),
            counts={k.value: v for k, v in rollup.counts.items()},
        ),
        signals=[signal_out(v, plant) for v in view.signals],
        commands=[command_out(c) for c in twin.commands],
    )

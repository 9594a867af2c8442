"""The live twin: latest values, derived signals and discrete states of the whole plant."""

from __future__ import annotations

from dataclasses import dataclass

from plantwin.core.records import StateChange
from plantwin.core.samples import Quality, SampleBatch
from plantwin.core.store import Latest
from plantwin.model.catalog import SignalCatalog
from plantwin.model.plant import Plant, PropertyValue, Twin
from plantwin.model.schema import StateCategory
from plantwin.twin.derived import DerivedEngine
from plantwin.twin.latest import LatestValues
from plantwin.twin.states import StateTracker
from plantwin.twin.windows import WindowEngine


@dataclass(frozen=True, slots=True)
class TwinUpdate:
    derived: SampleBatch  # canonical samples of derived signals computed from the batch
    changes: list[StateChange]


@dataclass(frozen=True, slots=True, kw_only=True)
class SignalValue:
    name: str
    key: str
    unit: str
    value: float | None
    ts: int | None
    quality: Quality


@dataclass(frozen=True, slots=True, kw_only=True)
class StateView:
    name: str
    category: StateCategory
    since: int | None


@dataclass(frozen=True, slots=True, kw_only=True)
class RollupView:
    category: StateCategory | None
    since: int | None
    counts: dict[StateCategory, int]


@dataclass(frozen=True, slots=True, kw_only=True)
class TwinView:
    twin: Twin
    properties: dict[str, PropertyValue]
    state: StateView | None
    rollup: RollupView
    signals: list[SignalValue]


class TwinState:
    """Applies canonical sample batches; answers what every twin looks like now."""

    def __init__(self, plant: Plant, catalog: SignalCatalog) -> None:
        self.plant = plant
        self.catalog = catalog
        self.latest = LatestValues(catalog.size)
        self.derived = DerivedEngine(catalog)
        self.states = StateTracker(plant, catalog)
        self.windows = WindowEngine(catalog)
        self.applied = 0

    def apply(self, batch: SampleBatch) -> TwinUpdate:
        derived = self._apply(batch)
        changes = self.states.apply(batch)
        if len(derived):
            changes.extend(self.states.apply(derived))
        # Window signals aggregate raw and derived samples; expressions may use them in turn.
        # (Most plants have none: skip the copy the concatenation would make of every batch.)
        windowed = SampleBatch.empty()
        if self.windows.windows:
            windowed = self.windows.compute(SampleBatch.concat([batch, derived]))
        if len(windowed):
            windowed = windowed.canonical()
            more = self._apply(windowed)
            derived = SampleBatch.concat([derived, windowed, more]).canonical()
        self.applied += len(batch) + len(derived)
        return TwinUpdate(derived=derived, changes=changes)

    def _apply(self, batch: SampleBatch) -> SampleBatch:
        """Take ``batch`` into the latest values; the derived samples it gives, applied too."""
        derived = self.derived.compute(batch, self.latest)  # reads the values held before
        self.latest.update(batch)
        if len(derived):
            derived = derived.canonical()
            self.latest.update(derived)
        return derived

    def restore(self, latest: Latest, changes: list[StateChange]) -> None:
        """Resume after a restart from the store's newest samples and state changes."""
        self.latest.restore(latest)
        self.states.restore(changes, self.latest.ts)

    def view(self, twin_id: str) -> TwinView:
        twin = self.plant.twins[twin_id]
        status = self.states.status[twin_id]
        signals: list[SignalValue] = []
        for key in twin.signals:
            sid = self.catalog.id(key)
            sig = self.catalog.signal(key)
            known = self.latest.has(sid)
            signals.append(
                SignalValue(
                    name=sig.name,
                    key=key,
                    unit=sig.symbol,
                    value=float(self.latest.value[sid]) if known else None,
                    ts=int(self.latest.ts[sid]) if known else None,
                    quality=Quality(int(self.latest.quality[sid])),
                )
            )
        state = None
        if status.state is not None:
            state = StateView(
                name=status.state.name, category=status.state.category, since=status.since
            )
        return TwinView(
            twin=twin,
            properties=dict(twin.properties),
            state=state,
            rollup=RollupView(
                category=status.rollup, since=status.rollup_since, counts=dict(status.counts)
            ),
            signals=signals,
        )

"""Discrete states per twin from their state signals, and the roll-up up the tree.

A twin with a state model takes its state from the code on its state signal. Every twin also
has a rolled-up category: the first of its own state and its children's roll-ups in the order
fault > planned > production > setup > idle > off, so a line shows 'fault' as soon as one
machine is down, and 'production' while anything produces. Roll-up changes of lines and sites
are recorded as state changes too, named by category.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from plantwin.core.records import StateChange
from plantwin.core.samples import SampleBatch
from plantwin.model.catalog import SignalCatalog
from plantwin.model.plant import ROLLUP_ORDER, Plant, StateDef
from plantwin.model.schema import StateCategory

_SEVERITY = {category: rank for rank, category in enumerate(ROLLUP_ORDER)}
_NO_CODE = -(2**62)


@dataclass(slots=True)
class TwinStatus:
    state: StateDef | None = None  # own state, for twins with a state model
    since: int | None = None
    rollup: StateCategory | None = None  # None: nothing known yet below this twin
    rollup_since: int | None = None
    counts: dict[StateCategory, int] = field(default_factory=dict)  # assets per category


@dataclass(frozen=True, slots=True)
class UnknownCode:
    twin: str
    code: float
    ts: int


RECENT_UNKNOWN = 20  # unknown state codes kept for the health report (all are counted)


class StateTracker:
    def __init__(self, plant: Plant, catalog: SignalCatalog) -> None:
        self.plant = plant
        self.status: dict[str, TwinStatus] = {twin_id: TwinStatus() for twin_id in plant.twins}
        self.owner: dict[int, str] = {}  # state signal id -> twin id
        self.codes: dict[str, dict[int, StateDef]] = {}
        self.by_name: dict[str, dict[str, StateDef]] = {}
        self.is_state: NDArray[np.bool_] = np.zeros(catalog.size, np.bool_)
        self.code_now: NDArray[np.int64] = np.full(catalog.size, _NO_CODE, np.int64)
        self.since_now: NDArray[np.int64] = np.full(catalog.size, np.iinfo(np.int64).min, np.int64)
        self.seen_ts: NDArray[np.int64] = np.full(catalog.size, np.iinfo(np.int64).min, np.int64)
        self.signal_of: dict[str, int] = {}
        for twin in plant.twins.values():
            if twin.states is not None:
                sid = catalog.id(twin.states.signal)
                self.owner[sid] = twin.id
                self.signal_of[twin.id] = sid
                self.codes[twin.id] = twin.states.by_code()
                self.by_name[twin.id] = {s.name: s for s in twin.states.states}
                self.is_state[sid] = True
        self.unknown: deque[UnknownCode] = deque(maxlen=RECENT_UNKNOWN)
        self.unknown_count = 0

    def apply(self, batch: SampleBatch) -> list[StateChange]:
        """State changes found in a canonical batch, with roll-ups, in time order."""
        if len(batch) == 0:
            return []
        mask = self.is_state[batch.signal]
        if not mask.any():
            return []
        sig, ts = batch.signal[mask], batch.ts[mask]
        code = np.rint(batch.value[mask]).astype(np.int64)
        # Late samples (not newer than the newest state sample seen) go to history only;
        # they never rewrite the live state.
        fresh = ts > self.seen_ts[sig]
        last = np.ones(sig.shape[0], np.bool_)
        last[:-1] = sig[1:] != sig[:-1]
        self.seen_ts[sig[last]] = np.maximum(self.seen_ts[sig[last]], ts[last])
        if not fresh.all():
            sig, ts, code = sig[fresh], ts[fresh], code[fresh]
        if sig.shape[0] == 0:
            return []
        # Compare each code with the one before it: the previous row of the same signal,
        # or the code held before the batch for a signal's first row.
        first = np.ones(sig.shape[0], np.bool_)
        first[1:] = sig[1:] != sig[:-1]
        previous = np.empty_like(code)
        previous[1:] = code[:-1]
        previous[first] = self.code_now[sig[first]]
        rows = np.flatnonzero(code != previous)
        if rows.size == 0:
            return []
        own = self._changes(sig[rows], ts[rows], code[rows])
        out: list[StateChange] = []
        for change in sorted(own, key=lambda c: c.ts):
            status = self.status[change.twin]
            status.state = self.by_name[change.twin][change.state]
            status.since = change.ts
            out.append(change)
            out.extend(self._rollup_from(change.twin, change.ts))
        return out

    def _changes(
        self, sig: NDArray[np.int32], ts: NDArray[np.int64], code: NDArray[np.int64]
    ) -> list[StateChange]:
        """State changes at the rows where a code differs from the one before it."""
        out: list[StateChange] = []
        for sid, stamp, value in zip(sig.tolist(), ts.tolist(), code.tolist(), strict=True):
            twin_id = self.owner[sid]
            new = self.codes[twin_id].get(value)
            if new is None:
                self.unknown.append(UnknownCode(twin_id, float(value), stamp))
                self.unknown_count += 1
                continue
            current = self.code_now[sid]
            if new.code == current:
                continue  # back to the held state after an unknown code
            held = self.status[twin_id]
            previous = self.codes[twin_id].get(int(current))
            out.append(
                StateChange(
                    ts=stamp,
                    twin=twin_id,
                    state=new.name,
                    previous=previous.name if previous is not None else None,
                    previous_since=int(self.since_now[sid]) if previous is not None else held.since,
                )
            )
            self.code_now[sid] = new.code
            self.since_now[sid] = stamp
        return out

    def _rollup_from(self, twin_id: str, ts: int) -> list[StateChange]:
        out: list[StateChange] = []
        current: str | None = twin_id
        while current is not None:
            status = self.status[current]
            category, counts = self._rollup(current)
            status.counts = counts
            if category != status.rollup:
                twin = self.plant.twins[current]
                if twin.states is None and category is not None:
                    out.append(
                        StateChange(
                            ts=ts,
                            twin=current,
                            state=category.value,
                            previous=status.rollup.value if status.rollup else None,
                            previous_since=status.rollup_since,
                        )
                    )
                status.rollup, status.rollup_since = category, ts
            current = self.plant.twins[current].parent
        return out

    def _rollup(self, twin_id: str) -> tuple[StateCategory | None, dict[StateCategory, int]]:
        status = self.status[twin_id]
        found: list[StateCategory] = []
        counts: dict[StateCategory, int] = {}
        if status.state is not None:
            found.append(status.state.category)
        for child in self.plant.twins[twin_id].children:
            child_status = self.status[child]
            if child_status.rollup is not None:
                found.append(child_status.rollup)
            for category, n in child_status.counts.items():
                counts[category] = counts.get(category, 0) + n
        if status.state is not None and self.plant.twins[twin_id].kind.value == "asset":
            counts[status.state.category] = counts.get(status.state.category, 0) + 1
        if not found:
            return None, counts
        return min(found, key=_SEVERITY.__getitem__), counts

    def restore(self, changes: list[StateChange], latest_ts: NDArray[np.int64]) -> None:
        """Take each twin's newest recorded state; ``latest_ts`` are the newest sample times.

        State samples at or before a state signal's newest stored sample count as late.
        """
        self.seen_ts = np.where(self.is_state, np.maximum(self.seen_ts, latest_ts), self.seen_ts)
        for change in sorted(changes, key=lambda c: c.ts):
            named = self.by_name.get(change.twin, {})
            if change.state in named:
                state = named[change.state]
                self.status[change.twin].state = state
                self.status[change.twin].since = change.ts
                sid = self.signal_of[change.twin]
                self.code_now[sid] = state.code
                self.since_now[sid] = change.ts
                self.seen_ts[sid] = max(int(self.seen_ts[sid]), change.ts)
        for twin_id in self.codes:
            self._rollup_from(twin_id, self.status[twin_id].since or 0)

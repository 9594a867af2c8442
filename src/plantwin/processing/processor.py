"""Rules and alarms on the live stream, as one stage the pipeline calls after the twin.

The pipeline hands every canonical batch it applied to the twin (raw and derived samples,
and the state changes they caused) to :meth:`RuleProcessor.process`, and calls
:meth:`RuleProcessor.tick` about once a second for what depends on time alone. Operator
actions (acknowledge, shelve ...) come from the API; their events wait in an outbox that the
pipeline publishes with the rest, so every alarm transition reaches the store the same way.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from plantwin.core.records import AlarmEvent, Event, StateChange
from plantwin.core.samples import SampleBatch
from plantwin.model.catalog import SignalCatalog
from plantwin.processing.alarms import AlarmBoard, AlarmSettings, newest_per_alarm
from plantwin.processing.rules import ConditionChange, RuleEngine
from plantwin.twin import TwinState

AlarmRecord = AlarmEvent | Event


class RuleProcessor:
    def __init__(
        self,
        twin: TwinState,
        catalog: SignalCatalog,
        *,
        start_ns: int,
        settings: AlarmSettings | None = None,
    ) -> None:
        self.twin = twin
        self.engine = RuleEngine(twin.plant, catalog, start_ns=start_ns)
        self.board = AlarmBoard(twin.plant, settings)
        self._outbox: list[AlarmRecord] = []
        self.submitted = asyncio.Event()  # set when an operator action waits in the outbox

    def restore(self, events: Sequence[AlarmEvent]) -> None:
        """Resume from the alarm log (newest first or in any order) and the restored twin."""
        self.board.restore(newest_per_alarm(events))
        self._outbox.extend(
            self._alarms(
                self.engine.prime(self.twin.states, self.board.active_ids(), self.twin.latest)
            )
        )

    def process(
        self,
        batch: SampleBatch,
        changes: Sequence[StateChange],
        *,
        derived: SampleBatch | None = None,
    ) -> list[AlarmRecord]:
        """Alarm records from a canonical batch, the state changes and derived samples it caused."""
        conditions = self.engine.evaluate(batch, changes, self.twin.latest, derived=derived)
        if not changes:
            return self._alarms(conditions)
        # State changes (suppression) and conditions reach the board in time order; at the
        # same instant the state goes first, so an alarm raised as maintenance starts is
        # suppressed.
        steps: list[tuple[int, int, StateChange | ConditionChange]] = [
            (c.ts, 0, c) for c in changes
        ]
        steps.extend((c.ts, 1, c) for c in conditions)
        steps.sort(key=lambda s: (s[0], s[1]))
        out: list[AlarmRecord] = []
        for ts, _, step in steps:
            if isinstance(step, StateChange):
                out.extend(self.board.state_changed(ts, step.twin, step.state))
            else:
                out.extend(self.board.condition(ts, step.rule, step.active, step.value))
        return out

    def tick(self, now: int) -> list[AlarmRecord]:
        out = self._alarms(self.engine.tick(now, self.twin.latest))
        out.extend(self.board.tick(now))
        return out

    def submit(self, record: AlarmRecord) -> None:
        """An operator action's event, to be published with the stream's records."""
        self._outbox.append(record)
        self.submitted.set()

    def drain(self) -> list[AlarmRecord]:
        out, self._outbox = self._outbox, []
        return out

    def _alarms(self, changes: list[ConditionChange]) -> list[AlarmRecord]:
        changes.sort(key=lambda c: c.ts)
        out: list[AlarmRecord] = []
        for change in changes:
            out.extend(self.board.condition(change.ts, change.rule, change.active, change.value))
        return out

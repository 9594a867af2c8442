"""Evaluating rules on the live stream: conditions with hysteresis, delays and combinations.

A rule's *raw* condition follows its input (a sample crossing a limit, a state entered, a
signal gone quiet); its *active* condition is the raw one after the on/off delays. Alarms
(:mod:`plantwin.processing.alarms`) and expression rules follow the active condition.

Threshold, range and deviation rules are evaluated for a whole batch in a few numpy
operations: samples inside their signal's quiet bounds (where no rule on the signal can
change, given the rules' conditions and, for deviations, every reference value the batch
holds) are skipped in one pass; every other (sample, rule watching the sample's signal) pair
is classified as violating, clear (beyond the deadband) or in the band; only rules with a
pair that disagrees with their current condition are then walked sample by sample in time
order, which in a steady plant is almost none. Times are plant time (sample timestamps), so
replays and the demo at 60x behave like the real thing.
"""

from __future__ import annotations

import heapq
import itertools
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from plantwin.core.records import StateChange
from plantwin.core.samples import SampleBatch
from plantwin.model.catalog import SignalCatalog
from plantwin.model.expressions import evaluate
from plantwin.model.plant import Plant, RuleDef
from plantwin.model.schema import RuleKind
from plantwin.processing.deviation_table import DeviationTable, ReferenceSpan
from plantwin.processing.rule_tables import BAD, AnalogTable, RateTable, Table, mask
from plantwin.twin.latest import NEVER, LatestValues
from plantwin.twin.states import StateTracker

_LIMITS = (RuleKind.THRESHOLD, RuleKind.RANGE)
MAX_UNKNOWN_INPUTS = 6  # an expression waits for its inputs beyond this many unknown ones


@dataclass(frozen=True, slots=True)
class ConditionChange:
    """A rule's active condition changed at ``ts``; ``value`` is what crossed the limit."""

    rule: RuleDef
    ts: int
    active: bool
    value: float | None


_Event = tuple[int, int, bool, float | None]  # (ts, rule index, raw condition, value)


class RuleEngine:
    """All rules of a plant, evaluated against the twin's samples, states and clock."""

    def __init__(
        self, plant: Plant, catalog: SignalCatalog, *, start_ns: int = 0, quiet: bool = True
    ) -> None:
        self.rules: list[RuleDef] = list(plant.rules())
        self.index = {rule.id: i for i, rule in enumerate(self.rules)}
        n = len(self.rules)
        self.raw = np.zeros(n, np.bool_)
        self.active = np.zeros(n, np.bool_)
        self.value = np.full(n, np.nan)  # input value at the latest raw change
        self.start_ns = start_ns
        # Skip samples inside their signal's quiet bounds; False checks every sample (the
        # general path, which tests compare the fast one with).
        self.quiet = quiet
        self.evaluations = 0  # (sample, rule) pairs classified, for the health report
        self._pending: dict[int, tuple[int, bool]] = {}  # rule -> (due, becomes active)
        self._timers: list[tuple[int, int]] = []  # heap of (due, rule); stale entries skipped
        self._dependents: dict[int, list[int]] = {i: [] for i in range(n)}
        for i, rule in enumerate(self.rules):
            for rule_id in rule.inputs.values():
                self._dependents[self.index[rule_id]].append(i)
        self._expressions = _topological(self.rules, self.index)
        self._settled = False  # every expression's inputs known (knowing is for good)
        # Whether a rule's condition is known since start (an expression waits for its
        # inputs, so a restart does not clear a restored alarm before its inputs are seen).
        self._signal_seen = np.zeros(catalog.size, np.bool_)
        self._all_seen = catalog.size == 0
        self._known_other = np.zeros(n, np.bool_)  # stale and state rules
        self._signal_of = np.array(
            [catalog.id(r.signal) if r.signal else -1 for r in self.rules], np.int64
        )
        # Limits on the signal alone, and deviations from another signal, in separate tables:
        # a deviation's quiet bounds depend on the batch's reference values.
        self._limits = AnalogTable(
            [i for i, r in enumerate(self.rules) if r.kind in _LIMITS], self.rules, catalog
        )
        self._deviations = DeviationTable(
            [i for i, r in enumerate(self.rules) if r.kind is RuleKind.DEVIATION],
            self.rules,
            catalog,
        )
        self._analog: list[AnalogTable | DeviationTable] = [self._limits, self._deviations]
        self._held = np.full(catalog.size, np.nan)  # reference signals' values, as seen here
        self._is_reference = np.zeros(catalog.size, np.bool_)
        for rule in self.rules:
            if rule.reference:
                self._is_reference[catalog.id(rule.reference)] = True
        self._any_reference = bool(self._is_reference.any())
        self._watched = self._is_reference.copy()  # signals some rule reads
        for rule in self.rules:
            if rule.signal:
                self._watched[catalog.id(rule.signal)] = True
        self._rates = RateTable(
            [i for i, r in enumerate(self.rules) if r.kind is RuleKind.RATE], self.rules, catalog
        )
        self._stale = np.array(
            [i for i, r in enumerate(self.rules) if r.kind is RuleKind.STALE], np.intp
        )
        self._stale_sig = np.array(
            [catalog.id(self.rules[i].signal or "") for i in self._stale], np.int64
        )
        self._stale_after = np.array([self.rules[i].after_ns for i in self._stale], np.int64)
        self._state_rules: dict[str, list[int]] = {}
        for i, rule in enumerate(self.rules):
            if rule.kind is RuleKind.STATE and rule.state_twin:
                self._state_rules.setdefault(rule.state_twin, []).append(i)

    # ------------------------------------------------------------------ start-up

    def prime(
        self, states: StateTracker, active: Iterable[str], latest: LatestValues | None = None
    ) -> list[ConditionChange]:
        """Resume: conditions whose alarm was active stay active; state rules see the state now.

        Without this an alarm restored as active would never clear: its rule would start
        inactive and a normal sample would not be a change.
        """
        self._settled = False
        for rule_id in active:
            i = self.index.get(rule_id)
            if i is not None:
                self.raw[i] = self.active[i] = True
        for table in self._analog:
            table.refresh(self.raw, None)
        if latest is not None:
            self._held[self._is_reference] = latest.value[self._is_reference]
        events: list[_Event] = []
        for twin_id, rules in self._state_rules.items():
            status = states.status[twin_id]
            if status.state is None:
                continue
            for i in rules:
                self._known_other[i] = True
                inside = status.state.name in self.rules[i].states
                if inside != bool(self.raw[i]):
                    events.append((status.since or self.start_ns, i, inside, None))
        return self._apply(events, None)

    # ------------------------------------------------------------------ the stream

    def evaluate(
        self,
        batch: SampleBatch,
        changes: Sequence[StateChange],
        latest: LatestValues,
        *,
        derived: SampleBatch | None = None,
    ) -> list[ConditionChange]:
        """Conditions changed by a canonical batch and the state changes it caused.

        Every source of change is gathered first and applied in time order, so delays fire
        and expressions combine their inputs as they were at each moment. ``derived`` are
        the samples the twin derived from ``batch`` (signals of their own), evaluated as if
        merged into it.
        """
        if derived is not None and len(derived):
            batch = self._join(batch, derived)
        watermark = latest.ts  # newest sample per signal, this batch included
        out: list[ConditionChange] = []
        if not len(batch):
            if changes:
                events: list[_Event] = []
                self._states(changes, events)
                out = self._apply(events, None)
            return out
        now = int(batch.ts.max())
        # Gathers by an intp index skip a conversion that an int32 one costs each time.
        sig = batch.signal.astype(np.intp)
        first_seen = False
        if not self._all_seen:
            first_seen = not self._signal_seen[sig].all()
            self._signal_seen[sig] = True
            self._all_seen = bool(self._signal_seen.all())
        if not changes and not first_seen and not np.count_nonzero(self._watched.take(sig)):
            self.advance(now, out, watermark)
            return out  # no rule reads these signals (e.g. most derived batches)
        events = []
        good = (batch.quality & BAD) == 0
        span = None
        if self._any_reference:
            span = ReferenceSpan.of(self._held, self._is_reference, sig, batch.value, good)
        refresh = self._walk(batch, sig, good, span, now, events)
        self._states(changes, events)
        out = self._apply(events, now, watermark)
        if first_seen:
            for j in self._expressions:  # inputs just became known: decide what we can
                self._combine(j, now, out)
        for table, sigs in refresh:
            table.refresh(self.raw, set(sigs.tolist()))
        if span is not None:  # the reference values later batches start from
            self._held[span.newest_signal] = span.newest_value
        return out

    def _join(self, batch: SampleBatch, derived: SampleBatch) -> SampleBatch:
        """``batch`` and ``derived`` as one canonical batch, or ``batch`` if that is the same.

        Derived samples that no rule reads, of signals seen before and no newer than the
        batch, change nothing the batch would not: merging them (a sort) is then skipped.
        """
        if (
            len(batch)
            and self._all_seen
            and int(derived.ts.max()) <= int(batch.ts.max())
            and not np.count_nonzero(self._watched.take(derived.signal))
        ):
            return batch
        return SampleBatch.merge_disjoint(batch, derived)

    def _walk(
        self,
        batch: SampleBatch,
        sig: NDArray[np.intp],
        good: NDArray[np.bool_],
        span: ReferenceSpan | None,
        now: int,
        events: list[_Event],
    ) -> list[tuple[AnalogTable | DeviationTable, NDArray[np.int64]]]:
        """Raw changes from the samples; the analog tables' signals whose bounds to refresh."""
        refresh: list[tuple[AnalogTable | DeviationTable, NDArray[np.int64]]] = []
        candidates = self._candidates(batch.value, sig, span)
        if candidates.size:
            for table in self._analog:
                if table.size:
                    sigs = self._walk_analog(table, batch, candidates, events)
                    if sigs is not None:
                        refresh.append((table, sigs))
        if self._rates.size:
            self._walk_rates(batch, sig, good, now, events)
        if self._stale.size:
            self._fresh(batch, events)
        return refresh

    def _candidates(
        self, x: NDArray[np.float64], sig: NDArray[np.intp], span: ReferenceSpan | None
    ) -> NDArray[np.intp]:
        """Rows outside their signal's quiet bounds: where a limit or deviation may change."""
        if not self.quiet:
            return np.arange(x.size)
        low, high = self._limits.low, self._limits.high
        if span is not None and self._deviations.size:
            low, high = self._deviations.bounds(span, self._limits.stacked)
        quick = (x > low.take(sig)) & (x < high.take(sig))
        return (~quick).nonzero()[0]

    def tick(self, now: int, latest: LatestValues) -> list[ConditionChange]:
        """Time-driven conditions: signals gone stale, delays that have run out."""
        events: list[_Event] = []
        if self._stale.size:
            last = latest.ts[self._stale_sig]
            last = np.where(last == NEVER, self.start_ns, last)
            stale = now - last > self._stale_after
            for j, i in enumerate(self._stale.tolist()):
                self._known_other[i] = True
                if bool(stale[j]) != bool(self.raw[i]):
                    when = int(last[j] + self._stale_after[j]) if stale[j] else int(last[j])
                    events.append((min(when, now), i, bool(stale[j]), None))
        out = self._apply(events, now)
        # Expressions whose inputs became known (e.g. 'not hot' at start) take their value.
        # Once every input is known, an expression follows its inputs' changes (_set), so
        # there is nothing left for the tick to decide.
        if not self._settled:
            for j in self._expressions:
                self._combine(j, now, out)
            self._settled = all(self._known(j) for j in self._expressions)
        self.advance(now, out)
        return out

    def advance(
        self,
        now: int,
        out: list[ConditionChange],
        watermark: NDArray[np.int64] | None = None,
    ) -> None:
        """Fire the on/off delays due by ``now``, in time order.

        With ``watermark`` (newest sample time per signal), a rule that watches a signal
        fires only once its own signal has reached the due time: a sample of another signal
        (another connector, maybe ahead) does not prove the condition held that long. Such
        delays wait for their signal or for the tick, which fires by the plant clock.
        """
        deferred: list[tuple[int, int]] = []
        while self._timers and self._timers[0][0] <= now:
            due, i = heapq.heappop(self._timers)
            pending = self._pending.get(i)
            if pending is None or pending[0] != due:
                continue  # cancelled or rescheduled
            sig = int(self._signal_of[i])
            if watermark is not None and sig >= 0 and int(watermark[sig]) < due:
                deferred.append((due, i))
                continue
            del self._pending[i]
            self._set(i, due, pending[1], out)
        for item in deferred:
            heapq.heappush(self._timers, item)

    def _apply(
        self,
        events: list[_Event],
        now: int | None,
        watermark: NDArray[np.int64] | None = None,
    ) -> list[ConditionChange]:
        out: list[ConditionChange] = []
        events.sort(key=lambda e: e[0])  # stable: one rule's events keep their order
        for ts, i, on, value in events:
            self.advance(ts, out, watermark)
            self._raw(i, ts, on, value, out)
        if now is not None:
            self.advance(now, out, watermark)
        return out

    # ------------------------------------------------------------------ kinds

    def _walk_analog(
        self,
        table: AnalogTable | DeviationTable,
        batch: SampleBatch,
        candidates: NDArray[np.intp],
        events: list[_Event],
    ) -> NDArray[np.int64] | None:
        """Raw changes of threshold/range/deviation rules; the signals whose rules changed."""
        sig_all = batch.signal
        rows, entry = table.pairs(sig_all, candidates)
        if not rows.size:
            return None
        self.evaluations += int(rows.size)
        violating, clear, usable, _ = self._classify(table, batch, rows, entry)
        held = self.raw[table.rule[entry]]
        disagree = usable & ((violating & ~held) | (clear & held))
        if not disagree.any():
            return None
        # A rule that may change is walked over all samples of its signal in this batch:
        # after its first change the quick bounds of the batch's start no longer hold.
        chosen = mask(table.size, entry[disagree])
        sigs = np.unique(table.signal[chosen])
        rows, entry = table.pairs(sig_all, mask(table.count.size, sigs)[sig_all].nonzero()[0])
        keep = chosen[entry]
        rows, entry = rows[keep], entry[keep]
        violating, clear, usable, x = self._classify(table, batch, rows, entry)
        order = np.lexsort((batch.ts[rows], entry))
        current, state = -1, False
        for k in order.tolist():
            if not usable[k]:
                continue
            i = int(table.rule[entry[k]])
            if i != current:
                current, state = i, bool(self.raw[i])
            if violating[k] and not state:
                events.append((int(batch.ts[rows[k]]), i, True, float(x[k])))
                state = True
            elif clear[k] and state:
                events.append((int(batch.ts[rows[k]]), i, False, float(x[k])))
                state = False
        return sigs

    def _classify(
        self,
        table: Table,
        batch: SampleBatch,
        rows: NDArray[np.intp],
        entry: NDArray[np.int64],
    ) -> tuple[NDArray[np.bool_], NDArray[np.bool_], NDArray[np.bool_], NDArray[np.float64]]:
        x = batch.value[rows]
        if isinstance(table, DeviationTable):
            x = table.deviation(entry, x, batch.ts[rows], batch, self._held)
        violating, clear = table.classify(entry, x)
        usable = (batch.quality[rows] & BAD) == 0
        return violating, clear, usable, x

    def _walk_rates(
        self,
        batch: SampleBatch,
        sig_all: NDArray[np.intp],
        good: NDArray[np.bool_],
        now: int,
        events: list[_Event],
    ) -> None:
        table = self._rates
        # Only the first sample of a later window matters: skip samples before the earliest
        # window edge any rule on their signal waits for.
        if now < table.earliest:
            return
        usable = ((batch.ts >= table.next_edge.take(sig_all)) & good).nonzero()[0]
        if not usable.size:
            return
        # Of those, only the first of each period of the signal's rules' common divisor can
        # open a window (the batch is sorted by signal, then time).
        sig = batch.signal[usable]
        period = batch.ts[usable] // table.divisor[sig]
        first = np.ones(usable.size, np.bool_)
        first[1:] = (sig[1:] != sig[:-1]) | (period[1:] != period[:-1])
        rows, entry = table.pairs(batch.signal, usable[first])
        # Batches are canonical (by signal, then time), so each rule's pairs are in time
        # order already; a stable sort by rule gathers them.
        order = np.argsort(entry, kind="stable")
        entry, rows = entry[order], rows[order]
        ts, value = batch.ts[rows], batch.value[rows]
        bucket = ts // table.over[entry]
        previous = np.empty_like(bucket)
        previous[1:] = bucket[:-1]
        first = np.ones(entry.size, np.bool_)
        first[1:] = entry[1:] != entry[:-1]
        previous[first] = table.last_bucket[entry[first]]
        boundary = bucket > previous  # the first sample of a later window (late ones: no)
        last = np.ones(entry.size, np.bool_)
        last[:-1] = entry[1:] != entry[:-1]
        table.last_bucket[entry[last]] = np.maximum(table.last_bucket[entry[last]], bucket[last])
        table.advance_edges(entry[last])
        picked = np.flatnonzero(boundary)
        if not picked.size:
            return
        entry, ts, value = entry[picked], ts[picked], value[picked]
        slope = table.slopes(entry, ts, value)
        violating = (slope > table.above[entry]) | (slope < table.below[entry])
        band = table.deadband[entry]
        inside = (slope > table.above[entry] - band) | (slope < table.below[entry] + band)
        clear = ~inside & ~np.isnan(slope)
        held = self.raw[table.rule[entry]]
        disagree = (violating & ~held) | (clear & held)
        if not disagree.any():
            return
        state: dict[int, bool] = {}
        for k in mask(table.size, entry[disagree])[entry].nonzero()[0].tolist():
            i = int(table.rule[entry[k]])
            now = state.get(i, bool(self.raw[i]))
            if violating[k] and not now:
                events.append((int(ts[k]), i, True, float(slope[k])))
                state[i] = True
            elif clear[k] and now:
                events.append((int(ts[k]), i, False, float(slope[k])))
                state[i] = False

    def _fresh(self, batch: SampleBatch, events: list[_Event]) -> None:
        """A stale signal that delivers a sample is fresh again at that sample's time."""
        held = self.raw.take(self._stale)
        if not np.count_nonzero(held):
            return
        for j in held.nonzero()[0].tolist():
            mine = (batch.signal == self._stale_sig[j]) & ((batch.quality & BAD) == 0)
            if mine.any():  # fresh again from its first good sample
                events.append((int(batch.ts[mine].min()), int(self._stale[j]), False, None))

    def _states(self, changes: Sequence[StateChange], events: list[_Event]) -> None:
        state: dict[int, bool] = {}
        for change in changes:
            for i in self._state_rules.get(change.twin, ()):
                self._known_other[i] = True
                inside = change.state in self.rules[i].states
                if inside != state.get(i, bool(self.raw[i])):
                    events.append((change.ts, i, inside, None))
                    state[i] = inside

    # ------------------------------------------------------------------ delays, combinations

    def _raw(
        self, i: int, ts: int, on: bool, value: float | None, out: list[ConditionChange]
    ) -> None:
        pending = self._pending.get(i)
        if pending is not None and pending[0] <= ts:  # a delay that ran out before this change
            del self._pending[i]
            self._set(i, pending[0], pending[1], out)
            pending = None
        self.raw[i] = on
        if value is not None:
            self.value[i] = value
        rule = self.rules[i]
        if on == bool(self.active[i]):
            if pending is not None:  # back before the delay ran out: nothing happened
                del self._pending[i]
            return
        delay = rule.on_delay_ns if on else rule.off_delay_ns
        if delay == 0:
            self._set(i, ts, on, out)
        elif pending is None:
            self._pending[i] = (ts + delay, on)
            heapq.heappush(self._timers, (ts + delay, i))

    def _set(self, i: int, ts: int, on: bool, out: list[ConditionChange]) -> None:
        self.active[i] = on
        value = float(self.value[i]) if not math.isnan(self.value[i]) else None
        out.append(ConditionChange(rule=self.rules[i], ts=ts, active=on, value=value))
        for j in self._dependents[i]:
            self._combine(j, ts, out)

    def _combine(self, j: int, ts: int, out: list[ConditionChange]) -> None:
        """Re-evaluate expression rule ``j`` from its inputs' active conditions."""
        rule = self.rules[j]
        assert rule.when is not None
        known: dict[str, bool] = {}
        unknown: list[str] = []
        for name, rid in rule.inputs.items():
            i = self.index[rid]
            if self._known(i):
                known[name] = bool(self.active[i])
            else:
                unknown.append(name)
        # Inputs not seen since start may be either; decide only if every case agrees
        # ('hot or high_p' is true once hot is, whatever high_p turns out to be).
        if len(unknown) > MAX_UNKNOWN_INPUTS:
            return
        results = {
            bool(
                np.asarray(evaluate(rule.when, {**known, **dict(zip(unknown, case, strict=True))}))
            )
            for case in itertools.product((False, True), repeat=len(unknown))
        }
        if len(results) != 1:
            return
        result = results.pop()
        if result != bool(self.raw[j]):
            self._raw(j, ts, result, None, out)

    def _known(self, i: int) -> bool:
        rule = self.rules[i]
        if rule.kind is RuleKind.EXPRESSION:
            return all(self._known(self.index[rid]) for rid in rule.inputs.values())
        if rule.kind in (RuleKind.STALE, RuleKind.STATE):
            return bool(self._known_other[i])
        return bool(self._signal_seen[self._signal_of[i]]) or bool(self.active[i])


def _topological(rules: list[RuleDef], index: dict[str, int]) -> list[int]:
    """Expression rules, each after the expression rules it reads."""
    order: list[int] = []
    done: set[int] = set()

    def visit(i: int) -> None:
        if i in done:
            return
        done.add(i)
        for rid in rules[i].inputs.values():
            visit(index[rid])
        if rules[i].kind is RuleKind.EXPRESSION:
            order.append(i)

    for i, rule in enumerate(rules):
        if rule.kind is RuleKind.EXPRESSION:
            visit(i)
    return order

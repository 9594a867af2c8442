"""One machine of a station as a SimPy process: take, set up, process, fail, repair, pass on.

Failures interrupt a cycle where they fall (operation-dependent, preempt-resume: the cycle
continues after the repair); planned replacements wait for the end of the cycle. Time is
booked into states on every change, so statistics cost nothing per event beyond that.
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from enum import IntEnum

import numpy as np
import simpy

from plantwin.simulation.line.buffers import Buffer, Level, Part
from plantwin.simulation.line.distributions import LogNormal, Stream, Uniforms
from plantwin.simulation.line.spec import MaintenancePolicy, PolicyKind, ShiftPlan, StationSpec


class State(IntEnum):
    """Machine states; the first four are *active* in the sense of the active-period method."""

    BUSY = 0
    SETUP = 1
    DOWN = 2
    MAINTENANCE = 3
    STARVED = 4
    BLOCKED = 5
    OFF = 6


ACTIVE_MAX = int(State.MAINTENANCE)
N_STATES = len(State)
# plain ints for the hot loop: enum attribute lookups and comparisons cost more
BUSY, SETUP, DOWN, MAINTENANCE = 0, 1, 2, 3
STARVED, BLOCKED, OFF = 4, 5, 6


class Purpose(IntEnum):
    """One random stream per machine and purpose, so scenarios keep common random numbers."""

    CYCLE = 0
    QUALITY = 1
    SETUP = 2
    WEAR_ONSET = 3
    WEAR_A = 4
    WEAR_TAU = 5
    WEAR_REPLACE = 6
    WEAR_PLANNED = 7
    RUL = 8
    PLANNED_STOP = 9
    FAILURES = 10  # mode k uses FAILURES + 2k (between) and FAILURES + 2k + 1 (repair)


@dataclass(slots=True)
class StationActivity:
    """When all machines of a station are active at once: its active periods."""

    machines: int
    active: int = 0
    since: float = 0.0
    # array('d'): 8 bytes a value; a year of a busy station has hundreds of thousands
    starts: array[float] = field(default_factory=lambda: array("d"))
    ends: array[float] = field(default_factory=lambda: array("d"))


@dataclass(slots=True)
class LineCounters:
    """What the whole line shares: WIP and the parts leaving it."""

    wip: Level
    warmup_s: float
    good: int = 0
    lead_sum_s: float = 0.0
    lead_count: int = 0


class Machine:
    """One machine; ``run()`` is its process."""

    __slots__ = (
        "_a",
        "_activity",
        "_between",
        "_cycle",
        "_env",
        "_inbuf",
        "_line",
        "_onset",
        "_outbuf",
        "_planned",
        "_policy",
        "_quality",
        "_repairs",
        "_replace",
        "_rul",
        "_setup",
        "_shifts",
        "_spec",
        "_stop",
        "_stop_every",
        "_tau",
        "acc",
        "corrective",
        "due",
        "failures",
        "good",
        "next_fail",
        "op",
        "planned_due",
        "preventive",
        "produced",
        "rework",
        "scrap",
        "since",
        "since_setup",
        "state",
        "stop_due",
        "wear_fail",
    )

    def __init__(
        self,
        *,
        env: simpy.Environment,
        spec: StationSpec,
        rng: Callable[[int], np.random.Generator],
        inbuf: Buffer | None,
        outbuf: Buffer | None,
        activity: StationActivity,
        line: LineCounters,
        shifts: ShiftPlan | None,
        policy: MaintenancePolicy,
    ) -> None:
        self._env = env
        self._spec = spec
        self._inbuf = inbuf
        self._outbuf = outbuf
        self._activity = activity
        self._line = line
        self._shifts = shifts
        self._policy = policy
        self._cycle = Stream(spec.cycle, rng(Purpose.CYCLE))
        self._quality = Uniforms(rng(Purpose.QUALITY))
        self._setup = (
            Stream(spec.setup.duration, rng(Purpose.SETUP)) if spec.setup is not None else None
        )
        self._between = [
            Stream(f.between, rng(Purpose.FAILURES + 2 * k)) for k, f in enumerate(spec.failures)
        ]
        self._repairs = [
            Stream(f.repair, rng(Purpose.FAILURES + 2 * k + 1)) for k, f in enumerate(spec.failures)
        ]
        wear = spec.wear
        self._onset = Stream(wear.onset, rng(Purpose.WEAR_ONSET)) if wear else None
        self._a = Stream(wear.growth_a, rng(Purpose.WEAR_A)) if wear else None
        self._tau = Stream(wear.growth_tau, rng(Purpose.WEAR_TAU)) if wear else None
        self._replace = Stream(wear.replace, rng(Purpose.WEAR_REPLACE)) if wear else None
        self._planned = Stream(wear.planned_replace, rng(Purpose.WEAR_PLANNED)) if wear else None
        self._rul = (
            Stream(LogNormal(mean=1.0, sigma=policy.rul_error), rng(Purpose.RUL))
            if wear and policy.rul_error > 0
            else None
        )
        stop = spec.planned_stop
        self._stop = Stream(stop.duration, rng(Purpose.PLANNED_STOP)) if stop else None
        self._stop_every = stop.interval_s if stop else math.inf
        self.stop_due = stop.first_s if stop else math.inf
        self.acc = [0.0] * N_STATES
        self.state = STARVED
        self.since = env.now
        self.op = 0.0  # operating seconds so far: the clock of failures and wear
        self.due = [s.next() for s in self._between]
        self.wear_fail = math.inf
        self.planned_due = math.inf
        self.next_fail = math.inf
        self.produced = self.good = self.scrap = self.rework = 0
        self.failures = self.corrective = self.preventive = 0
        self.since_setup = 0
        if wear is not None:
            self._new_life(age_s=0.0)
        self._refresh()

    # ------------------------------------------------------------------ bookkeeping
    def _enter(self, new: int) -> None:
        now = self._env._now  # the ``now`` property costs a third of a microsecond a call
        old = self.state
        self.acc[old] += now - self.since
        self.since = now
        self.state = new
        if (old <= ACTIVE_MAX) != (new <= ACTIVE_MAX):
            act = self._activity
            if new <= ACTIVE_MAX:
                act.active += 1
                if act.active == act.machines:
                    act.since = now
            else:
                if act.active == act.machines:
                    act.starts.append(act.since)
                    act.ends.append(now)
                act.active -= 1

    def totals(self, now: float) -> list[float]:
        """Seconds per state up to ``now``, then the counters; a run diffs two of these."""
        acc = list(self.acc)
        acc[self.state] += now - self.since
        counts = (self.produced, self.good, self.scrap, self.rework, self.failures)
        return [*acc, *map(float, counts), float(self.corrective), float(self.preventive)]

    def _refresh(self) -> None:
        self.next_fail = min(min(self.due, default=math.inf), self.wear_fail)

    def _new_life(self, *, age_s: float) -> None:
        """Draw the next wearing part's degradation path; plan its replacement by policy.

        ``age_s`` operating seconds of the part's life have passed already (start from the
        live state); a life drawn shorter than that fails at once.
        """
        assert self._onset and self._a and self._tau  # noqa: PT018 - set together with wear
        wear = self._spec.wear
        assert wear is not None
        for _ in range(1000):  # a part already ``age_s`` old has survived that long
            onset, a, tau = self._onset.next(), self._a.next(), self._tau.next()
            alarm = onset + tau * math.log1p((wear.alarm_level - wear.v0) / a)
            fail = onset + tau * math.log1p((wear.failure_level - wear.v0) / a)
            if fail > age_s:
                break
        self._plan(born=self.op - age_s, alarm=alarm, fail=fail)

    def _plan(self, *, born: float, alarm: float, fail: float) -> None:
        """Failure and planned replacement of a part born at ``born`` (alarm, fail: ages)."""
        self.wear_fail = max(self.op, born + fail)
        policy = self._policy
        if policy.kind is PolicyKind.FIXED_INTERVAL:
            self.planned_due = born + policy.interval_s
        elif policy.kind is PolicyKind.CONDITION:
            wait = policy.lead_s
            if self._rul is not None:
                predicted = (fail - alarm) * self._rul.next()
                wait = max(wait, predicted - policy.margin_s)
            self.planned_due = max(self.op, born + alarm) + wait
        else:
            self.planned_due = math.inf
        self._refresh()

    def start_degraded(self, level: float) -> None:
        """The wearing part's degradation signal reads ``level`` now (start from the twin).

        Above ``v0`` the part is in its growth phase: with a drawn growth path the level
        tells how far it has grown, hence when it will reach the alarm and failure levels.
        At or below ``v0`` its age cannot be told and the new part drawn at start is kept.
        """
        wear = self._spec.wear
        if wear is None or level <= wear.v0:
            return
        assert self._a is not None
        assert self._tau is not None
        a, tau = self._a.next(), self._tau.next()
        top = wear.v0 + 0.999 * (wear.failure_level - wear.v0)
        grown = tau * math.log1p((min(level, top) - wear.v0) / a)
        alarm = tau * math.log1p((wear.alarm_level - wear.v0) / a)
        fail = tau * math.log1p((wear.failure_level - wear.v0) / a)
        self._plan(born=self.op - grown, alarm=alarm, fail=fail)  # onset counted as 0

    def set_state(self, state: int) -> None:
        """Put the machine in ``state`` now (a run starting from the live state)."""
        self._enter(state)

    def start_worn(self, age_s: float) -> None:
        """Replace the new wearing part drawn at start by one that has run ``age_s``."""
        self._new_life(age_s=age_s)

    # ------------------------------------------------------------------ the process
    def run(self) -> Generator[simpy.Event, Part | None, None]:  # noqa: PLR0912, PLR0915
        # one function on purpose: the hot loop of the model, locals instead of attributes
        env = self._env
        timeout = env.timeout
        inbuf, outbuf, shifts, line = self._inbuf, self._outbuf, self._shifts, self._line
        cycle = self._cycle.next
        quality = self._quality.next
        scrap_p, rework_p = self._spec.scrap, self._spec.scrap + self._spec.rework
        setup, every = self._setup, (self._spec.setup.every_parts if self._spec.setup else 0)
        enter = self._enter
        while True:
            if shifts is not None:
                start = shifts.next_start(env._now)
                if start > env._now:
                    enter(OFF)
                    yield timeout(start - env._now)
            if inbuf is None:  # raw parts are always there: release one now
                part: Part | None = env._now
                line.wip.add(1)
            else:
                part = inbuf.get_nowait()
                if part is None:
                    enter(STARVED)
                    part = yield inbuf.wait_get()
            if setup is not None and self.since_setup >= every:
                enter(SETUP)
                yield timeout(setup.next())
                self.since_setup = 0
            while True:  # one pass per processing, again for rework
                if self.state != BUSY:
                    enter(BUSY)
                work = cycle()
                while self.op + work >= self.next_fail:
                    step = self.next_fail - self.op
                    if step > 0:
                        yield timeout(step)
                    self.op = self.next_fail
                    work -= step
                    yield from self._fail()
                    enter(BUSY)
                self.op += work
                yield timeout(work)
                self.produced += 1
                self.since_setup += 1
                u = quality() if rework_p > 0 else 1.0
                if u < scrap_p:
                    self.scrap += 1
                    line.wip.add(-1)
                    part = None
                    break
                if u < rework_p:
                    self.rework += 1
                    continue
                break
            if self.op >= self.planned_due:
                yield from self._replace_planned()
            if env._now >= self.stop_due:
                yield from self._planned_stop()
            if part is None:
                continue
            self.good += 1
            if outbuf is None:
                line.wip.add(-1)
                if env._now >= line.warmup_s:
                    line.lead_sum_s += env._now - part
                    line.lead_count += 1
                line.good += 1
            elif not outbuf.put_nowait(part):
                enter(BLOCKED)
                yield outbuf.wait_put(part)

    def _fail(self) -> Generator[simpy.Event, Part | None, None]:
        self._enter(DOWN)
        self.failures += 1
        if self.op >= self.wear_fail:
            assert self._replace is not None
            self.corrective += 1
            yield self._env.timeout(self._replace.next())
            self._new_life(age_s=0.0)
            return
        k = self.due.index(self.next_fail)
        yield self._env.timeout(self._repairs[k].next())
        self.due[k] = self.op + self._between[k].next()
        self._refresh()

    def _planned_stop(self) -> Generator[simpy.Event, Part | None, None]:
        assert self._stop is not None
        self._enter(MAINTENANCE)
        yield self._env.timeout(self._stop.next())
        while self.stop_due <= self._env._now:  # a stop that fell in a long repair is not repeated
            self.stop_due += self._stop_every

    def _replace_planned(self) -> Generator[simpy.Event, Part | None, None]:
        assert self._planned is not None
        self._enter(MAINTENANCE)
        self.preventive += 1
        yield self._env.timeout(self._planned.next())
        self._new_life(age_s=0.0)

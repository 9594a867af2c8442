"""Run one replication of a line model with SimPy and measure it.

Random numbers: every machine gets one generator per purpose (cycle, quality, each failure
mode, wear ...), seeded from the replication's ``SeedSequence`` and a key made of the
station's name, the machine's index and the purpose. Two scenarios run with the same seed
therefore give the same machine the same draws, whatever else changed (common random
numbers), and a machine added to a station gets streams of its own.
"""

from __future__ import annotations

import gc
import zlib
from collections.abc import Callable, Generator
from dataclasses import dataclass, field

import numpy as np
import simpy

from plantwin.simulation.line.buffers import Buffer, Level, Part
from plantwin.simulation.line.distributions import Stream
from plantwin.simulation.line.machine import (
    LineCounters,
    Machine,
    State,
    StationActivity,
)
from plantwin.simulation.line.results import (
    RunResult,
    StationResult,
    active_periods,
    bottleneck_shares,
)
from plantwin.simulation.line.spec import LineSpec

ARRIVALS_KEY = "__arrivals__"
N_COUNTS = 7  # produced, good, scrap, rework, failures, corrective, preventive


@dataclass(frozen=True, slots=True, kw_only=True)
class StartState:
    """The live state a run starts from (all optional; missing means empty and new).

    ``buffers`` gives the parts waiting before each station by station name; ``down_s`` the
    remaining repair of a station that is down; ``wear_age_s`` the operating seconds its
    wearing part has run (its life is drawn conditional on having survived that long);
    ``wear_level`` the current value of its degradation signal (vibration, mm/s).
    """

    buffers: dict[str, int] = field(default_factory=dict)
    down_s: dict[str, float] = field(default_factory=dict)
    wear_age_s: dict[str, float] = field(default_factory=dict)
    wear_level: dict[str, float] = field(default_factory=dict)


def generators(
    seed: np.random.SeedSequence, key: str, machine: int
) -> Callable[[int], np.random.Generator]:
    """Generators of one machine by purpose, made on first use."""
    base = (*seed.spawn_key, zlib.crc32(key.encode()), machine)

    def make(purpose: int) -> np.random.Generator:
        child = np.random.SeedSequence(seed.entropy, spawn_key=(*base, purpose))
        return np.random.Generator(np.random.PCG64(child))

    return make


def run_line(
    line: LineSpec,
    *,
    horizon_s: float,
    warmup_s: float = 0.0,
    seed: np.random.SeedSequence | int = 0,
    start: StartState | None = None,
) -> RunResult:
    """Simulate ``line`` for ``horizon_s`` seconds; statistics cover [warmup_s, horizon_s]."""
    if not 0 <= warmup_s < horizon_s:
        msg = f"need 0 <= warm-up ({warmup_s} s) < horizon ({horizon_s} s)"
        raise ValueError(msg)
    seq = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)
    start = start or StartState()
    env = simpy.Environment()
    counters = LineCounters(wip=Level(env), warmup_s=warmup_s)
    n = len(line.stations)
    inbufs: list[Buffer | None] = [None] * n
    if line.arrivals is not None:
        inbufs[0] = Buffer(env, line.arrival_buffer)
        env.process(
            _arrivals(
                env, Stream(line.arrivals, generators(seq, ARRIVALS_KEY, 0)(0)), inbufs[0], counters
            )
        )
    for i, capacity in enumerate(line.buffers):
        inbufs[i + 1] = Buffer(env, capacity)
    activities = [StationActivity(machines=s.machines) for s in line.stations]
    machines: list[list[Machine]] = []
    for i, spec in enumerate(line.stations):
        inbuf = inbufs[i]
        waiting = start.buffers.get(spec.name, 0)
        if waiting and inbuf is not None:
            inbuf.preload([0.0] * waiting)
            counters.wip.add(waiting)
        group = [
            Machine(
                env=env,
                spec=spec,
                rng=generators(seq, spec.name, m),
                inbuf=inbuf,
                outbuf=inbufs[i + 1] if i + 1 < n else None,
                activity=activities[i],
                line=counters,
                shifts=line.shifts,
                policy=line.policy,
            )
            for m in range(spec.machines)
        ]
        for m, machine in enumerate(group):
            if m == 0 and spec.name in start.wear_age_s and spec.wear is not None:
                machine.start_worn(start.wear_age_s[spec.name])
            if m == 0 and spec.name in start.wear_level:
                machine.start_degraded(start.wear_level[spec.name])
            down = start.down_s.get(spec.name, 0.0) if m == 0 else 0.0
            # a wrapping generator costs every resume: only for a machine that starts down
            env.process(_started(env, machine, down) if down > 0 else machine.run())
        machines.append(group)

    snapshots: list[list[float]] = []
    env.process(_snapshot_at(env, warmup_s, snapshots, machines, inbufs, counters))
    # SimPy makes an object per event; generational GC passes over millions of short-lived
    # ones find nothing (reference counting frees them) and cost about a tenth of the run
    enabled = gc.isenabled()
    gc.disable()
    try:
        env.run(until=horizon_s)
    finally:
        if enabled:
            gc.enable()
    end = _snapshot(env.now, machines, inbufs, counters)
    events = next(env._eid) - len(env._queue)  # events processed (SimPy keeps no counter)
    return _result(line, horizon_s, warmup_s, snapshots[0], end, activities, counters, events)


def _started(
    env: simpy.Environment, machine: Machine, down_s: float
) -> Generator[simpy.Event, Part | None, None]:
    machine.set_state(State.DOWN)  # a machine down now finishes its repair first
    yield env.timeout(down_s)
    yield from machine.run()


def _arrivals(
    env: simpy.Environment, gaps: Stream, queue: Buffer | None, counters: LineCounters
) -> Generator[simpy.Event, None, None]:
    assert queue is not None
    while True:
        yield env.timeout(gaps.next())
        part = env.now
        counters.wip.add(1)
        if not queue.put_nowait(part):
            yield queue.wait_put(part)


def _snapshot(
    now: float, machines: list[list[Machine]], inbufs: list[Buffer | None], counters: LineCounters
) -> list[float]:
    values = [v for group in machines for m in group for v in m.totals(now)]
    values += [b.level.integral(now) if b is not None else 0.0 for b in inbufs]
    values += [counters.wip.integral(now), float(counters.good)]
    return values


def _snapshot_at(
    env: simpy.Environment,
    at: float,
    into: list[list[float]],
    machines: list[list[Machine]],
    inbufs: list[Buffer | None],
    counters: LineCounters,
) -> Generator[simpy.Event, None, None]:
    if at > 0:
        yield env.timeout(at)
    into.append(_snapshot(env.now, machines, inbufs, counters))


def _result(
    line: LineSpec,
    horizon_s: float,
    warmup_s: float,
    first: list[float],
    last: list[float],
    activities: list[StationActivity],
    counters: LineCounters,
    events: int,
) -> RunResult:
    diff = np.asarray(last) - np.asarray(first)
    observed = horizon_s - warmup_s
    working = line.shifts.working_s(warmup_s, horizon_s) if line.shifts else observed
    width = len(State) + N_COUNTS
    periods = []
    for act in activities:
        starts, ends = act.starts, act.ends
        if act.active == act.machines:  # still active at the end
            starts.append(act.since)
            ends.append(horizon_s)
        periods.append(active_periods(starts, ends, lo=warmup_s, hi=horizon_s))
    shares = bottleneck_shares(periods, lo=warmup_s, hi=horizon_s)
    stations: list[StationResult] = []
    at = 0
    n_machines = sum(s.machines for s in line.stations)
    buf_at = n_machines * width
    sum_ideal_good = sum_pbt = 0.0
    downtime = spares = 0.0
    costs = line.costs
    cost = 0.0
    for i, spec in enumerate(line.stations):
        block = diff[at : at + spec.machines * width].reshape(spec.machines, width).sum(axis=0)
        at += spec.machines * width
        t = block[: len(State)]
        produced, good, scrap, rework, failures, corrective, preventive = block[len(State) :]
        machine_time = observed * spec.machines
        pbt = working * spec.machines
        busy = t[State.BUSY]
        ideal = spec.ideal_s
        sum_ideal_good += ideal * good
        sum_pbt += pbt
        downtime += (t[State.DOWN] + t[State.MAINTENANCE]) / 3600.0
        spares += corrective + preventive
        cost += (
            costs.corrective * failures
            + costs.preventive * preventive
            + costs.spare_part * (corrective + preventive)
            + costs.downtime_per_h * (t[State.DOWN] + t[State.MAINTENANCE]) / 3600.0
        )
        has_buffer = i > 0 or line.arrivals is not None
        durations = periods[i][1] - periods[i][0]
        stations.append(
            StationResult(
                name=spec.name,
                machines=spec.machines,
                busy=busy / machine_time,
                setup=t[State.SETUP] / machine_time,
                down=t[State.DOWN] / machine_time,
                maintenance=t[State.MAINTENANCE] / machine_time,
                starved=t[State.STARVED] / machine_time,
                blocked=t[State.BLOCKED] / machine_time,
                off=t[State.OFF] / machine_time,
                utilisation=busy / pbt,
                availability=busy / pbt,
                performance=ideal * produced / busy if busy > 0 else 0.0,
                quality=good / produced if produced > 0 else 0.0,
                oee=ideal * good / pbt,
                produced=int(produced),
                good=int(good),
                scrap=int(scrap),
                rework=int(rework),
                failures=int(failures),
                corrective=int(corrective),
                preventive=int(preventive),
                buffer_mean=float(diff[buf_at + i] / observed) if has_buffer else None,
                mean_active_s=float(durations.mean()) if durations.size else 0.0,
                bottleneck_share=float(shares[i]),
            )
        )
    wip_area, good_out = diff[buf_at + len(line.stations) :]
    lead = counters.lead_sum_s / counters.lead_count if counters.lead_count else float("nan")
    return RunResult(
        line=line.name,
        horizon_s=horizon_s,
        warmup_s=warmup_s,
        working_s=working,
        good=int(good_out),
        throughput_per_h=float(good_out) / observed * 3600.0,
        oee=sum_ideal_good / sum_pbt,
        wip=float(wip_area) / observed,
        lead_time_s=lead,
        stations=tuple(stations),
        bottleneck=stations[int(np.argmax(shares))].name,
        downtime_h=float(downtime),
        spare_parts=int(spares),
        maintenance_cost=float(cost),
        events=int(events),
    )

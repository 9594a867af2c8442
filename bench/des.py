"""Discrete-event line model benchmark: one replication of a 10-station line over a year.

Run: .venv/bin/python -m bench.des [--days 365] [--stations 10]

The line has log-normal cycles of 60-90 s, Weibull failures with log-normal repairs, tool
changes, scrap and rework, and 8-place buffers, running three shifts. The baseline is a
bare SimPy loop in the same run: one process per station doing nothing but
``yield env.timeout(...)``, until it has processed the same number of events as the model.
The ratio (model events/s over bare events/s) is what the model's bookkeeping costs.
Times are CPU seconds of this process (``time.process_time``), so other load on a shared
machine inflates them less than wall time; the wall time of the model run is printed too.
"""

from __future__ import annotations

import argparse
import gc
import time
from collections.abc import Generator

import simpy

from bench.common import emit, pin_to_one_core
from plantwin.simulation.line import FailureSpec, LineSpec, SetupSpec, StationSpec, run_line
from plantwin.simulation.line.distributions import LogNormal, Weibull

HOUR = 3600.0


def bench_line(stations: int) -> LineSpec:
    specs = tuple(
        StationSpec(
            name=f"st{i:02d}",
            cycle=LogNormal(mean=60.0 + 30.0 * ((i * 7) % stations) / stations, sigma=0.05),
            failures=(
                FailureSpec(
                    between=Weibull.from_mean((20.0 + 4 * i) * HOUR, 1.2),
                    repair=LogNormal(mean=0.75 * HOUR, sigma=0.6),
                ),
            ),
            setup=SetupSpec(every_parts=200, duration=LogNormal(mean=240.0, sigma=0.25)),
            scrap=0.005,
            rework=0.01,
        )
        for i in range(stations)
    )
    return LineSpec(name="bench", stations=specs, buffers=(8,) * (stations - 1))


def bare_loop(stations: int, events: int) -> float:
    """CPU seconds for SimPy to process ``events`` timeouts over ``stations`` processes."""
    env = simpy.Environment()
    per_process = events // stations

    def proc(i: int) -> Generator[simpy.Event, None, None]:
        delay = 60.0 + i
        for _ in range(per_process):
            yield env.timeout(delay)

    for i in range(stations):
        env.process(proc(i))
    gc.disable()  # as run_line does: the same footing for both
    try:
        t0 = time.process_time()
        env.run()
        return time.process_time() - t0
    finally:
        gc.enable()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=float, default=365.0)
    parser.add_argument("--stations", type=int, default=10)
    args = parser.parse_args()
    pinned = pin_to_one_core()
    line = bench_line(args.stations)
    t0, c0 = time.perf_counter(), time.process_time()
    result = run_line(line, horizon_s=args.days * 86_400, warmup_s=86_400, seed=1)
    wall_s, model_s = time.perf_counter() - t0, time.process_time() - c0
    bare_s = bare_loop(args.stations, result.events)
    model_rate = result.events / model_s
    bare_rate = result.events / bare_s
    print(f"{args.stations}-station line, {args.days:g} simulated days, {pinned}")
    print(
        f"  parts out {result.good:,}, throughput {result.throughput_per_h:.1f}/h, "
        f"OEE {result.oee:.3f}, bottleneck {result.bottleneck}"
    )
    print(
        f"  model: {model_s:6.2f} s CPU ({wall_s:.2f} s wall)  {result.events:>11,} events  "
        f"{model_rate:>11,.0f} events/s"
    )
    print(f"  bare SimPy loop, same event count: {bare_s:6.2f} s CPU  {bare_rate:>11,.0f} events/s")
    print(f"  model / bare events per second: {model_rate / bare_rate:.2f}")
    emit(
        {
            "bench": "des",
            "stations": args.stations,
            "days": args.days,
            "seconds": round(model_s, 3),
            "wall_seconds": round(wall_s, 3),
            "events": result.events,
            "events_per_s": round(model_rate),
            "bare_events_per_s": round(bare_rate),
            "ratio": round(model_rate / bare_rate, 3),
        }
    )


if __name__ == "__main__":
    main()

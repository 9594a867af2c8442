"""The line model against exact queueing results (plantwin.simulation.line.exact).

Each check runs independent replications and asserts that the exact value lies inside the
95 % confidence interval of the simulated mean, and that the interval is narrow enough for
the check to mean something.
"""

from __future__ import annotations

import pytest

from plantwin.simulation.line import FailureSpec, LineSpec, StationSpec, run_line
from plantwin.simulation.line.distributions import Exponential
from plantwin.simulation.line.exact import (
    isolated_efficiency,
    mm1,
    two_machine_line,
    two_station_blocking,
)
from plantwin.simulation.line.replications import estimate, run_replications

REPS = 8


def _failing(name: str, mu: float, p: float, r: float) -> StationSpec:
    return StationSpec(
        name=name,
        cycle=Exponential(mean=1 / mu),
        failures=(FailureSpec(between=Exponential(mean=1 / p), repair=Exponential(mean=1 / r)),),
    )


def test_single_station_matches_mm1() -> None:
    lam, mu = 0.7, 1.0
    exact = mm1(lam, mu)
    line = LineSpec(
        name="mm1",
        stations=(StationSpec(name="s", cycle=Exponential(mean=1 / mu)),),
        buffers=(),
        arrivals=Exponential(mean=1 / lam),
    )
    runs = run_replications(
        line, replications=REPS, horizon_s=40_000, warmup_s=1_000, seed=11, workers=2
    )
    utilisation = estimate([r.station("s").utilisation for r in runs])
    queue = estimate([r.station("s").buffer_mean or 0.0 for r in runs])
    wip = estimate([r.wip for r in runs])
    lead = estimate([r.lead_time_s for r in runs])
    assert utilisation.contains(exact.utilisation), (utilisation, exact)
    assert queue.contains(exact.queue), (queue, exact)
    assert wip.contains(exact.in_system), (wip, exact)
    assert lead.contains(exact.time_in_system), (lead, exact)
    assert queue.half_width < 0.1 * exact.queue
    assert utilisation.half_width < 0.02


def test_isolated_machine_availability_and_throughput() -> None:
    mu, p, r = 1.0, 0.02, 0.2
    line = LineSpec(name="one", stations=(_failing("m", mu, p, r),), buffers=())
    runs = run_replications(line, replications=REPS, horizon_s=40_000, seed=3, workers=2)
    up = estimate([1 - r.station("m").down for r in runs])
    rate = estimate([r.throughput_per_h / 3600 for r in runs])
    assert up.contains(isolated_efficiency(p, r)), up
    assert rate.contains(mu * isolated_efficiency(p, r)), rate
    assert rate.half_width < 0.02


@pytest.mark.parametrize("buffer", [0, 3])
def test_two_stations_with_finite_buffer_match_mm1k(buffer: int) -> None:
    mu1, mu2 = 1.0, 1.2
    line = LineSpec(
        name="two",
        stations=(
            StationSpec(name="a", cycle=Exponential(mean=1 / mu1)),
            StationSpec(name="b", cycle=Exponential(mean=1 / mu2)),
        ),
        buffers=(buffer,),
    )
    runs = run_replications(line, replications=REPS, horizon_s=30_000, seed=5, workers=2)
    rate = estimate([r.throughput_per_h / 3600 for r in runs])
    exact = two_station_blocking(mu1, mu2, buffer)
    assert rate.contains(exact), (rate, exact)
    assert rate.half_width < 0.01
    # blocking is what makes the exact value lower than the slower machine's rate
    assert exact < 0.97 * mu1


def test_two_stations_with_buffer_and_failures_match_the_markov_chain() -> None:
    mu, p, r, buffer = (1.0, 1.1), (0.01, 0.02), (0.1, 0.15), 4
    line = LineSpec(
        name="two",
        stations=(_failing("m1", mu[0], p[0], r[0]), _failing("m2", mu[1], p[1], r[1])),
        buffers=(buffer,),
    )
    runs = run_replications(
        line, replications=REPS, horizon_s=60_000, warmup_s=2_000, seed=9, workers=2
    )
    rate = estimate([x.throughput_per_h / 3600 for x in runs])
    exact = two_machine_line(mu=mu, p=p, r=r, buffer=buffer)
    assert rate.contains(exact), (rate, exact)
    assert rate.half_width < 0.02 * exact
    # the buffer matters: the line is slower than either machine alone
    alone = min(m * isolated_efficiency(pp, rr) for m, pp, rr in zip(mu, p, r, strict=True))
    assert exact < 0.95 * alone


def test_markov_chain_without_failures_is_the_closed_form() -> None:
    for buffer in (0, 2, 7):
        chain = two_machine_line(mu=(1.0, 1.3), p=(0.0, 0.0), r=(1.0, 1.0), buffer=buffer)
        assert chain == pytest.approx(two_station_blocking(1.0, 1.3, buffer), rel=1e-12)


def test_same_seed_same_result_and_counts_add_up() -> None:
    line = LineSpec(
        name="two",
        stations=(_failing("m1", 1.0, 0.01, 0.1), _failing("m2", 1.1, 0.02, 0.15)),
        buffers=(2,),
    )
    a = run_line(line, horizon_s=5_000, seed=1)
    b = run_line(line, horizon_s=5_000, seed=1)
    c = run_line(line, horizon_s=5_000, seed=2)
    assert a == b
    assert a.good != c.good
    m1, m2 = a.stations
    # parts made by m1 are in the buffer, in m2, or gone; m2 passed on what left the line
    assert m2.good == a.good
    assert 0 <= m1.good - m2.good <= 2 + 2
    shares = m1.busy + m1.setup + m1.down + m1.maintenance + m1.starved + m1.blocked + m1.off
    assert shares == pytest.approx(1.0)

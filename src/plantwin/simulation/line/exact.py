"""Exact results the line model is validated against (tests/simulation/test_line_validation.py).

- M/M/1 (Kleinrock, Queueing Systems I, 1975, ch. 3.2): utilisation rho = lambda/mu, mean
  number waiting Lq = rho^2 / (1 - rho), in the system L = rho / (1 - rho), time in the
  system W = 1 / (mu - lambda).
- An isolated machine with operation-dependent exponential failures (rate p while working)
  and repairs (rate r) is up r / (r + p) of the time and makes mu r / (r + p) parts per unit
  time (Buzacott 1967; Gershwin, Manufacturing Systems Engineering, 1994, eq. 3.10).
- Two machines and a buffer of B places, exponential processing (mu1, mu2), blocking after
  service, machine 1 never starved: the number x of parts past machine 1 (in machine 2, the
  buffer, or finished and held by a blocked machine 1) is a birth-death process on 0..B+2,
  i.e. M/M/1/K with K = B + 2 and lambda = mu1, so the throughput is mu2 (1 - pi0) with
  pi0 = (1 - rho) / (1 - rho^(K+1)), rho = mu1/mu2 (Kleinrock ch. 3.6).
- With failures as above on both machines the line is Gershwin's exponential two-machine
  line (Gershwin 1994, sec. 3.7), a Markov chain on (x, machine 1 up, machine 2 up); its
  stationary distribution is solved here exactly (a linear system, no simulation), and the
  throughput is mu2 P(x >= 1, machine 2 up). Without failures it reduces to M/M/1/K above.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, slots=True, kw_only=True)
class MM1:
    utilisation: float
    queue: float  # Lq, mean number waiting
    in_system: float  # L
    time_in_system: float  # W


def mm1(arrival_rate: float, service_rate: float) -> MM1:
    rho = arrival_rate / service_rate
    if not 0 < rho < 1:
        msg = f"M/M/1 needs 0 < lambda/mu < 1, got {rho}"
        raise ValueError(msg)
    return MM1(
        utilisation=rho,
        queue=rho**2 / (1 - rho),
        in_system=rho / (1 - rho),
        time_in_system=1 / (service_rate - arrival_rate),
    )


def isolated_efficiency(failure_rate: float, repair_rate: float) -> float:
    """Share of time an always-fed machine is up: r / (r + p)."""
    return repair_rate / (repair_rate + failure_rate)


def two_station_blocking(mu1: float, mu2: float, buffer: int) -> float:
    """Throughput of two exponential machines without failures, B = ``buffer`` places."""
    k = buffer + 2
    rho = mu1 / mu2
    pi0 = 1 / (k + 1) if rho == 1 else (1 - rho) / (1 - rho ** (k + 1))
    return mu2 * (1 - pi0)


def two_machine_line(
    *, mu: tuple[float, float], p: tuple[float, float], r: tuple[float, float], buffer: int
) -> float:
    """Throughput of the exponential two-machine line with failures (Markov chain, exact)."""
    top = buffer + 2
    states = [(x, a1, a2) for x in range(top + 1) for a1 in (0, 1) for a2 in (0, 1)]
    index = {s: i for i, s in enumerate(states)}
    q = np.zeros((len(states), len(states)))
    for (x, a1, a2), i in index.items():
        m1_works = a1 == 1 and x < top
        m2_works = a2 == 1 and x >= 1
        moves: list[tuple[tuple[int, int, int], float]] = []
        if m1_works:
            moves += [((x + 1, a1, a2), mu[0]), ((x, 0, a2), p[0])]
        if a1 == 0:
            moves.append(((x, 1, a2), r[0]))
        if m2_works:
            moves += [((x - 1, a1, a2), mu[1]), ((x, a1, 0), p[1])]
        if a2 == 0:
            moves.append(((x, a1, 1), r[1]))
        for target, rate in moves:
            q[i, index[target]] += rate
            q[i, i] -= rate
    # pi Q = 0 with sum(pi) = 1: replace one balance equation by the normalisation
    a = q.T.copy()
    a[-1, :] = 1.0
    b = np.zeros(len(states))
    b[-1] = 1.0
    pi = np.linalg.solve(a, b)
    busy2 = sum(pi[i] for (x, _, a2), i in index.items() if x >= 1 and a2 == 1)
    return float(mu[1] * busy2)

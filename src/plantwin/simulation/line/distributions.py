"""Random durations for the line model, and the streams that draw them in blocks.

A distribution draws from *standard* variates of its family (a unit exponential, a standard
normal ...) and scales them, so two scenarios that only change a mean (a faster cycle) see
the same underlying numbers: common random numbers survive parameter changes. Streams draw
a block of values at once, since one numpy call per value costs more than the whole event.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from itertools import chain
from typing import Literal

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]

BLOCK = 512


@dataclass(frozen=True, slots=True, kw_only=True)
class Fixed:
    """Always ``value`` seconds."""

    value: float
    kind: Literal["fixed"] = "fixed"

    @property
    def mean(self) -> float:
        return self.value

    def draw(self, rng: np.random.Generator, n: int) -> FloatArray:
        return np.full(n, self.value)

    def scaled(self, factor: float) -> Fixed:
        return Fixed(value=self.value * factor)


@dataclass(frozen=True, slots=True, kw_only=True)
class Exponential:
    """Memoryless durations with the given mean (seconds)."""

    mean: float
    kind: Literal["exponential"] = "exponential"

    def draw(self, rng: np.random.Generator, n: int) -> FloatArray:
        return rng.standard_exponential(n) * self.mean

    def scaled(self, factor: float) -> Exponential:
        return Exponential(mean=self.mean * factor)


@dataclass(frozen=True, slots=True, kw_only=True)
class Weibull:
    """Weibull with ``shape`` k and ``scale`` eta (seconds); k > 1 ages, k = 1 is exponential."""

    shape: float
    scale: float
    kind: Literal["weibull"] = "weibull"

    @classmethod
    def from_mean(cls, mean: float, shape: float) -> Weibull:
        return cls(shape=shape, scale=mean / math.gamma(1.0 + 1.0 / shape))

    @property
    def mean(self) -> float:
        return self.scale * math.gamma(1.0 + 1.0 / self.shape)

    def draw(self, rng: np.random.Generator, n: int) -> FloatArray:
        # inverse transform of a unit exponential keeps one standard variate per draw
        return self.scale * rng.standard_exponential(n) ** (1.0 / self.shape)

    def scaled(self, factor: float) -> Weibull:
        return Weibull(shape=self.shape, scale=self.scale * factor)


@dataclass(frozen=True, slots=True, kw_only=True)
class LogNormal:
    """Log-normal with the given ``mean`` (seconds) and ``sigma`` of the underlying normal."""

    mean: float
    sigma: float
    kind: Literal["lognormal"] = "lognormal"

    def draw(self, rng: np.random.Generator, n: int) -> FloatArray:
        mu = math.log(self.mean) - self.sigma**2 / 2.0
        return np.exp(mu + self.sigma * rng.standard_normal(n))

    def scaled(self, factor: float) -> LogNormal:
        return LogNormal(mean=self.mean * factor, sigma=self.sigma)


Distribution = Fixed | Exponential | Weibull | LogNormal


def check_distribution(dist: Distribution, where: str) -> None:
    """Raise ValueError naming ``where`` if a parameter is not a finite positive number."""
    values = {
        "fixed": ("value",),
        "exponential": ("mean",),
        "weibull": ("shape", "scale"),
        "lognormal": ("mean", "sigma"),
    }[dist.kind]
    for name in values:
        value = float(getattr(dist, name))
        allowed_zero = name in {"value", "sigma"}
        if not math.isfinite(value) or value < 0 or (value == 0 and not allowed_zero):
            msg = f"{where}: {dist.kind} {name} must be a finite number > 0, got {value!r}"
            raise ValueError(msg)


def _blocks(draw: Callable[[int], FloatArray]) -> Iterator[list[float]]:
    while True:
        yield draw(BLOCK).tolist()


class Stream:
    """Values of one distribution from one generator, drawn ``BLOCK`` at a time.

    ``next`` is a C-level ``partial(next, iterator)``: in the model's hot loop a Python
    method call per value cost more than the rest of drawing it.
    """

    __slots__ = ("next",)

    def __init__(self, dist: Distribution, rng: np.random.Generator) -> None:
        values = chain.from_iterable(_blocks(partial(dist.draw, rng)))
        self.next: Callable[[], float] = partial(next, values)


class Uniforms:
    """Uniform [0, 1) numbers drawn in blocks (scrap and rework decisions)."""

    __slots__ = ("next",)

    def __init__(self, rng: np.random.Generator) -> None:
        values = chain.from_iterable(_blocks(rng.random))
        self.next: Callable[[], float] = partial(next, values)

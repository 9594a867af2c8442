"""Random draws for the demo plant: one generator per asset, measurement noise by block.

Event randomness (cycle times, failures, repairs, wear rates) comes from one generator per
asset, spawned from the seed, so an asset's draws do not shift when another asset changes.
Measurement noise is drawn in fixed blocks keyed by the step number, so the readings do not
depend on how a run is cut into ``advance`` calls and a restored simulator needs no noise
state.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

ASSET_STREAMS = (
    "supply",
    "buf_in",
    "mill1",
    "buf_ml",
    "lathe1",
    "buf_lw",
    "washer1",
    "buf_wc",
    "cmm1",
    "compressor1",
)
_NOISE_KEY = 0x4E015E


def asset_generators(seed: int) -> dict[str, np.random.Generator]:
    children = np.random.SeedSequence(seed).spawn(len(ASSET_STREAMS))
    return {
        name: np.random.Generator(np.random.PCG64(child))
        for name, child in zip(ASSET_STREAMS, children, strict=True)
    }


def weibull_mean(rng: np.random.Generator, mean: float, shape: float) -> float:
    """A Weibull draw with the given mean and shape (beta)."""
    scale = mean / math.gamma(1.0 + 1.0 / shape)
    return scale * float(rng.weibull(shape))


def lognormal_mean(rng: np.random.Generator, mean: float, sigma: float) -> float:
    """A log-normal draw with the given mean (not median) and log-space sigma."""
    return float(rng.lognormal(math.log(mean) - sigma * sigma / 2.0, sigma))


class NoiseBlocks:
    """Standard normal noise for steps ``[a, b)``, ``width`` columns, reproducible by step."""

    def __init__(self, *, seed: int, width: int, block: int) -> None:
        self._seed = seed
        self._width = width
        self._block = block
        self._cache: tuple[int, NDArray[np.float64]] | None = None

    def _get(self, index: int) -> NDArray[np.float64]:
        if self._cache is not None and self._cache[0] == index:
            return self._cache[1]
        seq = np.random.SeedSequence(self._seed, spawn_key=(_NOISE_KEY, index))
        data = np.random.Generator(np.random.PCG64(seq)).standard_normal((self._block, self._width))
        self._cache = (index, data)
        return data

    def rows(self, a: int, b: int) -> NDArray[np.float64]:
        out = np.empty((b - a, self._width))
        pos = a
        while pos < b:
            index, offset = divmod(pos, self._block)
            take = min(self._block - offset, b - pos)
            out[pos - a : pos - a + take] = self._get(index)[offset : offset + take]
            pos += take
        return out

"""Window signals: tumbling and sliding aggregates computed by the twin as samples arrive."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from plantwin.core.samples import Quality, SampleBatch
from plantwin.model.loader import parse_plant
from plantwin.model.plant import Plant
from plantwin.twin import TwinState
from tests.helpers import T0, S, catalog_for

PLANT = """\
plantwin: 1
name: windows
types:
  fan:
    signals:
      vib: {unit: mm/s}
      vib_1m: {unit: mm/s, window: {signal: vib, fn: mean, width: 1 min}}
      vib_rms: {unit: mm/s, window: {signal: vib, fn: rms, width: 1 min}}
      vib_max_3m: {unit: mm/s, window: {signal: vib, fn: max, width: 3 min, every: 1 min}}
      vib_std: {unit: mm/s, window: {signal: vib, fn: std, width: 1 min}}
      vib_n: {unit: dimensionless, window: {signal: vib, fn: count, width: 1 min}}
      doubled: {unit: mm/s, expr: 2 * vib_1m}
sites:
  s:
    assets:
      f1: {type: fan}
      f2: {type: fan}
"""


@pytest.fixture
def plant() -> Plant:
    return parse_plant(PLANT)


def _outputs(twin: TwinState, batches: list[SampleBatch]) -> dict[str, list[tuple[int, float]]]:
    catalog = twin.catalog
    keys = {sid: key for key, sid in catalog.ids.items()}
    out: dict[str, list[tuple[int, float]]] = {}
    for batch in batches:
        derived = twin.apply(batch.canonical()).derived
        for sid, ts, value in zip(
            derived.signal.tolist(), derived.ts.tolist(), derived.value.tolist(), strict=True
        ):
            out.setdefault(keys[sid], []).append((ts, value))
    return out


def test_tumbling_and_sliding_windows_match_numpy(plant: Plant) -> None:
    catalog = catalog_for(plant)
    twin = TwinState(plant, catalog)
    rng = np.random.default_rng(3)
    vib = catalog.id("s.f1/vib")
    seconds = np.arange(0, 5 * 60 + 1)  # five minutes at 1 Hz, then one sample to close
    values = rng.normal(2.0, 0.5, seconds.size)
    # Delivered in uneven batches, as a connector would.
    cuts = [0, 7, 61, 62, 150, 299, seconds.size]
    batches = [
        SampleBatch.of([vib] * (b - a), T0 + seconds[a:b] * S, values[a:b])
        for a, b in itertools.pairwise(cuts)
    ]
    out = _outputs(twin, batches)
    minutes = values[:300].reshape(5, 60)
    means = [(T0 + (m + 1) * 60 * S, float(minutes[m].mean())) for m in range(5)]
    assert [t for t, _ in out["s.f1/vib_1m"]] == [t for t, _ in means]
    assert [v for _, v in out["s.f1/vib_1m"]] == pytest.approx([v for _, v in means])
    assert [v for _, v in out["s.f1/vib_rms"]] == pytest.approx(
        np.sqrt((minutes**2).mean(axis=1)).tolist()
    )
    assert [v for _, v in out["s.f1/vib_std"]] == pytest.approx(minutes.std(axis=1).tolist())
    assert [v for _, v in out["s.f1/vib_n"]] == [60.0] * 5
    # Sliding: the max over the last three minutes, every minute (partial at the start).
    sliding = [float(values[max(0, (m - 2) * 60) : (m + 1) * 60].max()) for m in range(5)]
    assert [v for _, v in out["s.f1/vib_max_3m"]] == pytest.approx(sliding)
    # Derived expressions use window signals like any other.
    assert [v for _, v in out["s.f1/doubled"]] == pytest.approx([2 * v for _, v in means])
    assert "s.f2/vib_1m" not in out  # f2 had no samples
    view = {s.name: s.value for s in twin.view("s.f1").signals}
    assert view["vib_1m"] == pytest.approx(means[-1][1])


def test_late_and_bad_samples_do_not_enter_closed_windows(plant: Plant) -> None:
    catalog = catalog_for(plant)
    twin = TwinState(plant, catalog)
    vib = catalog.id("s.f1/vib")
    first = SampleBatch.of([vib] * 60, T0 + np.arange(60) * S, np.ones(60))
    bad = SampleBatch.of([vib], [T0 + 61 * S], [100.0], [int(Quality.BAD)])
    closing = SampleBatch.of([vib], [T0 + 125 * S], [3.0])
    late = SampleBatch.of([vib], [T0 + 30 * S], [50.0])  # for a minute already emitted
    more = SampleBatch.of([vib], [T0 + 190 * S], [3.0])
    out = _outputs(twin, [first, bad, closing, late, more])
    assert out["s.f1/vib_1m"] == [(T0 + 60 * S, 1.0), (T0 + 180 * S, 3.0)]
    assert twin.windows.late_skipped == 5  # one late sample, counted by each of the 5 windows
    assert not any(math.isnan(v) for _, v in out["s.f1/vib_max_3m"])

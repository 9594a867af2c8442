"""An FMU stepped with the stream: outputs against the exact solution, residuals, failures."""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from plantwin.core.samples import Quality, SampleBatch
from plantwin.model.catalog import SignalCatalog
from plantwin.model.loader import parse_plant
from plantwin.model.plant import Plant
from plantwin.simulation.fmu.cosim import CoSimulator, FmuCoSimulation
from plantwin.twin import TwinState
from tests.fmu_support import analytic, oven_plant, plant_text
from tests.helpers import T0, S, catalog_for

TOL = 1e-6  # K; RK4 in 0.1 s sub-steps against the exact exponential


def _setup(plant: Plant) -> tuple[SignalCatalog, FmuCoSimulation]:
    catalog = catalog_for(plant, offset=3)  # non-zero ids: nothing may assume id == position
    return catalog, FmuCoSimulation(plant.fmus["thermal"], catalog)


def _batch(
    catalog: SignalCatalog, rows: list[tuple[str, int, float]], quality: int = 0
) -> SampleBatch:
    return SampleBatch(
        signal=np.array([catalog.id(f"plant.oven/{s}") for s, _, _ in rows], np.int32),
        ts=np.array([t for _, t, _ in rows], np.int64),
        value=np.array([v for _, _, v in rows], np.float64),
        quality=np.full(len(rows), quality, np.uint8),
    ).canonical()


def _series(catalog: SignalCatalog, out: SampleBatch, name: str) -> tuple[np.ndarray, np.ndarray]:
    mine = out.signal == catalog.id(f"plant.oven/{name}")
    order = np.argsort(out.ts[mine])
    return (out.ts[mine][order] - T0) / S, out.value[mine][order]


def _run(
    sim: FmuCoSimulation,
    catalog: SignalCatalog,
    seconds: int,
    *,
    power_w: Callable[[int], float],
    measured: Callable[[int], float],
    every: int = 10,
    hall: float = 20.0,
) -> SampleBatch:
    """Feed samples each second, ``every`` seconds per batch; all outputs concatenated."""
    outs = []
    for start in range(0, seconds + 1, every):
        rows = []
        for t in range(start, min(start + every, seconds + 1)):
            ts = T0 + t * S
            rows += [("power", ts, power_w(t)), ("hall", ts, hall), ("temp", ts, measured(t))]
        outs.append(sim.advance(_batch(catalog, rows)))
    return SampleBatch.concat(outs)


@pytest.mark.parametrize("fmu_fixture", ["thermal_fmu", "thermal3_fmu"])
def test_outputs_follow_the_exact_solution_and_residual_is_zero(
    fmu_fixture: str, request: pytest.FixtureRequest
) -> None:
    """FMI 2.0 and FMI 3.0: the same model gives the same exact solution."""
    fmu: Path = request.getfixturevalue(fmu_fixture)
    catalog, sim = _setup(oven_plant(fmu))
    assert sim.fmu.fmi_version == ("2.0" if fmu_fixture == "thermal_fmu" else "3.0")
    exact = [analytic(t, t0=30.0, power_kw=40.0, ambient=20.0) for t in range(601)]
    out = _run(sim, catalog, 600, power_w=lambda _: 40_000.0, measured=lambda t: exact[t])
    t, model = _series(catalog, out, "temp_model")
    assert t.tolist() == list(range(601))  # one sample per communication point, t0 included
    assert np.abs(model - np.array(exact)).max() < TOL
    assert model[-1] == pytest.approx(40 - 10 * math.exp(-5))  # towards 20 + 0.5 K/kW * 40 kW
    _, residual = _series(catalog, out, "temp_residual")
    assert np.abs(residual).max() < TOL
    assert sim.steps == 600
    sim.close()


def test_inputs_are_held_over_each_step(thermal_fmu: Path) -> None:
    """Power drops between communication points: the model sees it from the next step on."""
    catalog, sim = _setup(oven_plant(thermal_fmu))
    out = SampleBatch.concat(
        [
            sim.advance(
                _batch(catalog, [("power", T0, 40_000.0), ("hall", T0, 20.0), ("temp", T0, 30.0)])
            ),
            sim.advance(_batch(catalog, [("power", T0 + 100_500_000_000, 10_000.0)])),
            sim.advance(_batch(catalog, [("hall", T0 + 300 * S, 20.0)])),
        ]
    )
    t, model = _series(catalog, out, "temp_model")
    at_101 = analytic(101, t0=30.0, power_kw=40.0, ambient=20.0)  # the step 100..101 used 40 kW
    expected = [
        analytic(s, t0=30.0, power_kw=40.0, ambient=20.0)
        if s <= 101
        else analytic(s - 101, t0=at_101, power_kw=10.0, ambient=20.0)
        for s in t
    ]
    assert t[-1] == 300
    assert np.abs(model - np.array(expected)).max() < TOL


def test_batching_does_not_change_the_result(thermal_fmu: Path) -> None:
    plant = oven_plant(thermal_fmu)
    power = lambda t: 40_000.0 if t < 50 else 5_000.0  # noqa: E731
    measured = lambda t: 30.0 + 0.01 * t  # noqa: E731
    results = []
    for every in (1, 7, 200):
        catalog, sim = _setup(plant)
        out = _run(sim, catalog, 120, power_w=power, measured=measured, every=every)
        results.append([_series(catalog, out, n) for n in ("temp_model", "temp_residual")])
        sim.close()
    for other in results[1:]:
        for (t_a, v_a), (t_b, v_b) in zip(results[0], other, strict=True):
            assert t_a.tolist() == t_b.tolist()
            np.testing.assert_allclose(v_a, v_b, rtol=0, atol=1e-12)


def test_residual_grows_when_the_plant_departs_from_the_model(thermal_fmu: Path) -> None:
    """A fault at 300 s: the oven heats with 0.6 K/kW instead of 0.5 K/kW."""
    catalog, sim = _setup(oven_plant(thermal_fmu))
    at_300 = analytic(300, t0=30.0, power_kw=40.0, ambient=20.0)

    def measured(t: int) -> float:
        if t <= 300:
            return analytic(t, t0=30.0, power_kw=40.0, ambient=20.0)
        steady = 20.0 + 0.6 * 40.0
        return steady + (at_300 - steady) * math.exp(-(t - 300) / 120.0)

    out = _run(sim, catalog, 900, power_w=lambda _: 40_000.0, measured=measured)
    t, residual = _series(catalog, out, "temp_residual")
    assert np.abs(residual[t <= 300]).max() < TOL
    assert residual[-1] == pytest.approx(4.0 * (1 - math.exp(-600 / 120)), abs=1e-5)
    assert residual[t >= 500].min() > 3.0


def test_model_starts_when_every_signal_it_reads_is_known(thermal_fmu: Path) -> None:
    catalog, sim = _setup(oven_plant(thermal_fmu))
    early = _batch(catalog, [("power", T0, 40_000.0), ("hall", T0, 20.0)])
    assert len(sim.advance(early)) == 0  # no temperature yet: T_start comes from it
    later = _batch(catalog, [("temp", T0 + 5 * S, 25.0), ("power", T0 + 7 * S, 40_000.0)])
    out = sim.advance(later)
    t, model = _series(catalog, out, "temp_model")
    assert t.tolist() == [5.0, 6.0, 7.0]
    assert model[0] == 25.0  # started at the measured temperature
    assert model[2] == pytest.approx(analytic(2, t0=25.0, power_kw=40.0, ambient=20.0), abs=TOL)


def test_input_quality_marks_the_outputs(thermal_fmu: Path) -> None:
    catalog, sim = _setup(oven_plant(thermal_fmu))
    sim.advance(_batch(catalog, [("power", T0, 40_000.0), ("hall", T0, 20.0), ("temp", T0, 30.0)]))
    doubtful = _batch(catalog, [("hall", T0 + 2 * S, 21.0)], quality=Quality.UNCERTAIN)
    good = _batch(catalog, [("hall", T0 + 4 * S, 21.0), ("power", T0 + 5 * S, 40_000.0)])
    out = SampleBatch.concat([sim.advance(doubtful), sim.advance(good)])
    model = catalog.id("plant.oven/temp_model")
    flags = dict(
        zip(
            ((out.ts[out.signal == model] - T0) // S).tolist(),
            out.quality[out.signal == model].tolist(),
            strict=True,
        )
    )
    flagged = int(Quality.UNCERTAIN | Quality.SUBSTITUTED)
    # The steps starting at 2 s and 3 s held the uncertain ambient; they end at 3 s and 4 s.
    assert flags == {1: 0, 2: 0, 3: flagged, 4: flagged, 5: 0}


def test_a_failing_fmu_stops_alone_and_says_why(
    thermal_fmu: Path, caplog: pytest.LogCaptureFixture
) -> None:
    plant = parse_plant(plant_text(thermal_fmu).replace("tau: 2 min", "tau: 0 s"), "oven.yaml")
    catalog, sim = _setup(plant)
    with caplog.at_level(logging.ERROR):
        out = sim.advance(
            _batch(catalog, [("power", T0, 1.0), ("hall", T0, 20.0), ("temp", T0, 30.0)])
        )
    assert len(out) == 0
    assert sim.error is not None
    assert "FMU thermal" in sim.error
    assert "exitInitializationMode failed" in sim.error
    assert "exitInitializationMode failed" in caplog.text
    # Later batches are left alone (no exception into the pipeline).
    assert len(sim.advance(_batch(catalog, [("power", T0 + S, 1.0)]))) == 0


def test_a_long_gap_starts_the_model_again(thermal_fmu: Path) -> None:
    catalog, sim = _setup(oven_plant(thermal_fmu, step="10 s"))
    first = [("power", T0, 40_000.0), ("hall", T0, 20.0), ("temp", T0, 30.0)]
    sim.advance(_batch(catalog, first))
    far = T0 + 30 * 24 * 3600 * S  # a month later: 259,200 steps of 10 s
    out = sim.advance(_batch(catalog, [("temp", far, 50.0), ("power", far, 0.0)]))
    assert sim.restarts == 1
    t, model = _series(catalog, out, "temp_model")
    assert t.tolist() == [(far - T0) / S]
    assert model[0] == 50.0  # started again from the measurement


def test_cosimulator_runs_every_fmu_and_cleans_up(thermal_fmu: Path) -> None:
    plant = oven_plant(thermal_fmu)
    catalog = catalog_for(plant)
    cosim = CoSimulator.for_plant(catalog)
    out = cosim.advance(
        _batch(catalog, [("power", T0, 0.0), ("hall", T0, 20.0), ("temp", T0 + S, 20.0)])
    )
    assert len(out) == 2  # temp_model and temp_residual at 1 s
    (fmu,) = cosim.fmus
    slave = fmu._slave
    assert slave is not None
    unpacked = Path(slave._dir)
    assert unpacked.is_dir()
    cosim.close()
    assert not unpacked.exists()


def test_residuals_at_the_measured_samples_own_times(thermal_fmu: Path) -> None:
    """Measured every 2.5 s: compared with the model interpolated between steps, not held."""
    catalog, sim = _setup(oven_plant(thermal_fmu))
    rows = [("power", T0, 40_000.0), ("hall", T0, 20.0)]
    half = [T0 + k * 2_500_000_000 for k in range(9)]  # 0 .. 20 s
    rows += [
        ("temp", ts, analytic((ts - T0) / S, t0=30.0, power_kw=40.0, ambient=20.0)) for ts in half
    ]
    out = sim.advance(_batch(catalog, rows))
    t, residual = _series(catalog, out, "temp_residual")
    assert t.tolist() == [k * 2.5 for k in range(9)]
    # Linear interpolation over 1 s of a curve with T'' < 1e-3 K/s^2: error below 1e-3 K.
    assert np.abs(residual).max() < 1e-3
    assert np.abs(residual[::2]).max() < TOL  # on communication points: exact
    # A measured sample after the newest step waits for the step that covers it.
    later = sim.advance(_batch(catalog, [("temp", T0 + 21 * S, 0.0)]))
    t, residual = _series(catalog, later, "temp_residual")
    assert t.tolist() == [21.0]
    assert residual[0] == pytest.approx(-analytic(21, t0=30.0, power_kw=40.0, ambient=20.0))


def test_expressions_and_windows_read_fmu_signals(thermal_fmu: Path) -> None:
    """The twin takes the FMU's samples like a batch: derived and window signals follow."""
    extra = (
        "          misfit: {unit: K, expr: abs(temp_residual)}\n"
        "          misfit_1m: {unit: K, window: {signal: misfit, fn: max, width: 1 min}}\n"
    )
    text = plant_text(thermal_fmu).replace(
        "          temp: {unit: degC}\n", "          temp: {unit: degC}\n" + extra
    )
    plant = parse_plant(text, "oven.yaml")
    catalog, sim = _setup(plant)
    twin = TwinState(plant, catalog)
    misfit, window = catalog.id("plant.oven/misfit"), catalog.id("plant.oven/misfit_1m")
    seen_misfit, seen_window = [], []
    for t in range(0, 130, 10):  # the oven runs 1 K hotter than the model says
        rows = []
        for s in range(t, t + 10):
            exact = analytic(s, t0=30.0, power_kw=40.0, ambient=20.0)
            ts = T0 + s * S
            rows += [("power", ts, 40_000.0), ("hall", ts, 20.0), ("temp", ts, exact + (s > 0))]
        batch = _batch(catalog, rows)
        update = twin.apply(batch)
        produced = sim.advance(SampleBatch.merge_disjoint(batch, update.derived)).canonical()
        derived = twin.apply(produced).derived
        seen_misfit += derived.value[derived.signal == misfit].tolist()
        seen_window += derived.value[derived.signal == window].tolist()
    assert len(seen_misfit) == 130  # one per residual sample, the start (0 K) included
    assert seen_misfit[0] == 0.0
    assert seen_misfit[-1] == pytest.approx(1.0, abs=TOL)
    assert seen_window == pytest.approx([1.0, 1.0])  # minutes 0-1 and 1-2, closed at 2 min
    sim.close()

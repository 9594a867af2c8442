"""Health monitors on a stream: fitted on the first hours, scoring rows, explaining anomalies."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from plantwin.analytics.anomaly import online
from plantwin.analytics.anomaly.online import HealthMonitors
from plantwin.core.samples import SampleBatch
from plantwin.model.catalog import SignalCatalog
from plantwin.model.loader import parse_plant
from plantwin.model.plant import Plant

NS = 1_000_000_000
START = 1_780_000_000 * NS
PLANT = """\
plantwin: 1
name: pumps
types:
  pump:
    signals:
      flow: {unit: m^3/h}
      current: {unit: A}
      health:
        unit: percent
        health: {signals: [flow, current, motor.vibration], fit: 2 h, every: 5 s}
      motor_health:
        unit: percent
        health: {of: health, signals: [motor.vibration]}
    components:
      motor: {type: motor}
  motor:
    kind: component
    signals:
      vibration: {unit: mm/s}
sites:
  s:
    assets:
      p1: {type: pump}
"""
FLOW, CURRENT, VIBRATION = "s.p1/flow", "s.p1/current", "s.p1.motor/vibration"


@pytest.fixture(scope="module")
def catalog() -> SignalCatalog:
    plant: Plant = parse_plant(PLANT, "pumps.yaml")
    return SignalCatalog(plant, {key: n for n, key in enumerate(plant.signals)})


def stream(catalog: SignalCatalog, hours: float, fault_from_h: float | None = None) -> SampleBatch:
    """1 Hz flow, current (follows flow) and vibration; vibration +1 mm/s after the fault."""
    n = int(hours * 3600)
    rng = np.random.default_rng(3)
    ts = START + np.arange(n, dtype=np.int64) * NS
    flow = 10 + rng.normal(0, 0.3, n)
    current = 2 * flow + rng.normal(0, 0.2, n)
    vibration = 1 + rng.normal(0, 0.1, n)
    if fault_from_h is not None:
        vibration[int(fault_from_h * 3600) :] += 1.0
    ids = [catalog.id(k) for k in (FLOW, CURRENT, VIBRATION)]
    return SampleBatch.of(
        np.repeat(ids, n), np.tile(ts, 3), np.concatenate([flow, current, vibration])
    ).canonical()


def run(catalog: SignalCatalog, samples: SampleBatch, cut_s: int) -> tuple[SampleBatch, list[str]]:
    monitors = HealthMonitors(catalog)
    out: list[SampleBatch] = []
    messages: list[str] = []
    edges = np.arange(START, int(samples.ts.max()) + cut_s * NS, cut_s * NS)
    for lo, hi in itertools.pairwise(edges):
        part = samples.take((samples.ts >= lo) & (samples.ts < hi))
        health, events = monitors.process(part, SampleBatch.empty())
        out.append(health)
        messages += [e.message for e in events]
    return SampleBatch.concat(out).canonical(), messages


def test_nothing_before_the_fit_then_healthy_scores(catalog: SignalCatalog) -> None:
    health, messages = run(catalog, stream(catalog, 4), cut_s=60)
    mine = health.take(health.signal == catalog.id("s.p1/health"))
    assert mine.ts.min() >= START + 2 * 3600 * NS  # the first 2 h are the healthy period
    assert len(mine) == pytest.approx(2 * 3600 / 5, abs=2)  # one every 5 s after it
    assert np.median(mine.value) > 80
    assert np.mean(mine.value < 50) < 0.05
    assert len(messages) <= 3


def rows(catalog: SignalCatalog, samples: SampleBatch, cut_s: int) -> tuple[np.ndarray, np.ndarray]:
    monitor = HealthMonitors(catalog).monitors[0]
    times, values = [], []
    edges = np.arange(START, int(samples.ts.max()) + cut_s * NS, cut_s * NS)
    for lo, hi in itertools.pairwise(edges):
        t, v = monitor.rows(samples.take((samples.ts >= lo) & (samples.ts < hi)))
        times.append(t)
        values.append(v)
    return np.concatenate(times), np.concatenate(values)


def test_the_rows_do_not_depend_on_how_the_stream_is_cut(catalog: SignalCatalog) -> None:
    samples = stream(catalog, 0.5)
    t1, v1 = rows(catalog, samples, cut_s=1)
    t2, v2 = rows(catalog, samples, cut_s=7)
    t3, v3 = rows(catalog, samples, cut_s=600)
    np.testing.assert_array_equal(t1, t3)
    np.testing.assert_array_equal(t1, t2)
    np.testing.assert_allclose(v1, v3, rtol=1e-12)
    np.testing.assert_allclose(v1, v2, rtol=1e-12)
    # each row is the mean of the 5 samples in (t - 5 s, t]
    flow = samples.take(samples.signal == catalog.id(FLOW))
    k = 10
    window = (flow.ts > t1[k] - 5 * NS) & (flow.ts <= t1[k])
    assert v1[k, 0] == pytest.approx(flow.value[window].mean())
    assert window.sum() == 5


def test_a_fault_lowers_health_and_is_explained(catalog: SignalCatalog) -> None:
    health, messages = run(catalog, stream(catalog, 4, fault_from_h=3), cut_s=60)
    whole = health.take(health.signal == catalog.id("s.p1/health"))
    motor = health.take(health.signal == catalog.id("s.p1/motor_health"))
    after = whole.ts > START + 3 * 3600 * NS + 60 * NS
    assert np.mean(whole.value[after] < 50) > 0.95
    assert np.median(motor.value[motor.ts > START + 3 * 3600 * NS + 60 * NS]) < 50
    assert np.median(motor.value[motor.ts < START + 3 * 3600 * NS]) > 80
    explained = [m for m in messages if "signals contributing most: motor.vibration" in m]
    assert explained, messages


def test_a_batch_without_inputs_changes_nothing(catalog: SignalCatalog) -> None:
    """Another connector's batch (only non-input signals, later times) once crashed the stage."""
    samples = stream(catalog, 0.2)
    other = catalog.id("s.p1/health")  # any signal that is not an input
    late = int(samples.ts.max()) + 60 * NS
    monitor = HealthMonitors(catalog).monitors[0]
    t1, v1 = monitor.rows(samples.take(samples.ts < START + 300 * NS))
    t_none, _ = monitor.rows(SampleBatch.of(np.array([other]), np.array([late]), np.array([1.0])))
    assert len(t_none) == 0
    t2, v2 = monitor.rows(samples.take(samples.ts >= START + 300 * NS))
    t_ref, v_ref = rows(catalog, samples, cut_s=300)
    np.testing.assert_array_equal(np.concatenate([t1, t2]), t_ref)
    np.testing.assert_allclose(np.concatenate([v1, v2]), v_ref, rtol=1e-12)


def test_healthy_when_keeps_faulty_rows_out_of_the_fit() -> None:
    """A fault from the first hour on sits inside the 2 h fit period: fitted on all its rows
    the detector learns it as normal; with ``healthy_when`` only the rows before it count."""
    picky = PLANT.replace(
        "fit: 2 h, every: 5 s}",
        "fit: 2 h, every: 5 s, healthy_when: {signal: motor.vibration, below: 1500 um/s}}",
    )
    after: dict[str, float] = {}
    for name, text in (("all rows", PLANT), ("healthy_when", picky)):
        plant = parse_plant(text, "pumps.yaml")
        cat = SignalCatalog(plant, {key: n for n, key in enumerate(plant.signals)})
        health, _ = run(cat, stream(cat, 4, fault_from_h=1), cut_s=60)
        whole = health.take(health.signal == cat.id("s.p1/health"))
        assert whole.ts.min() >= START + 2 * 3600 * NS
        after[name] = float(np.mean(whole.value < 50))
    assert after["healthy_when"] > 0.95  # every faulty row flagged
    assert after["all rows"] < 0.2


def test_healthy_when_waits_for_enough_healthy_rows() -> None:
    """No row of the fit period meets the condition: the period goes on until enough do."""
    picky = PLANT.replace(
        "fit: 2 h, every: 5 s}",
        "fit: 2 h, every: 5 s, healthy_when: {signal: motor.vibration, above: 1.5}}",
    )
    plant = parse_plant(picky, "pumps.yaml")
    cat = SignalCatalog(plant, {key: n for n, key in enumerate(plant.signals)})
    health, _ = run(cat, stream(cat, 4, fault_from_h=3), cut_s=60)
    whole = health.take(health.signal == cat.id("s.p1/health"))
    # 30 rows (10 per input) above 1.5 mm/s are there 150 s after the fault starts
    assert whole.ts.min() == pytest.approx(START + 3 * 3600 * NS + 150 * NS, abs=10 * NS)


@pytest.mark.parametrize(
    ("cut_s", "total", "picked"),
    [
        (1, 133651.94136766408, [88.9071907808302, 0.03487348663268531, 98.90479784094283]),
        (60, 133652.10838317763, [88.9071907808302, 0.034876369000600725, 98.9076068738279]),
    ],
)
def test_health_values_are_those_before_the_cost_work(
    catalog: SignalCatalog, cut_s: int, total: float, picked: list[float]
) -> None:
    """Figures of the stage before its periods were added up when they close (and the
    inputs picked once for all monitors): the same sums in the same order, so the same
    values. (1 s and 60 s differ: the drift adaptation steps once per call.)"""
    health, messages = run(catalog, stream(catalog, 4, fault_from_h=3), cut_s=cut_s)
    assert len(health) == 2880
    np.testing.assert_allclose(health.value.sum(), total, rtol=1e-12)
    np.testing.assert_allclose(health.value[[0, 1000, 2000]], picked, rtol=1e-9)
    assert len(messages) == 1
    assert "motor.vibration 100%" in messages[0]


def test_a_monitor_whose_inputs_pause_sees_only_its_own_batches() -> None:
    """Two pumps: while the second one's inputs pause, batches of the first one (later
    times) must not close its periods; its health is as if it had been alone."""
    plant = parse_plant(
        PLANT.replace("p1: {type: pump}", "p1: {type: pump}\n      p2: {type: pump}"), "pumps.yaml"
    )
    both = SignalCatalog(plant, {key: n for n, key in enumerate(plant.signals)})
    one = stream(both, 2.5)
    ids = [both.id(k) for k in (FLOW, CURRENT, VIBRATION)]
    other = [both.id(k.replace("p1", "p2")) for k in (FLOW, CURRENT, VIBRATION)]
    second = SampleBatch.of(np.array(other)[np.searchsorted(ids, one.signal)], one.ts, one.value)
    pause = (second.ts > START + 7300 * NS) & (second.ts < START + 7400 * NS)
    second = second.take(~pause).canonical()
    target = both.id("s.p2/health")
    alone, _ = run(both, second, cut_s=2)
    mixed, _ = run(both, SampleBatch.concat([one, second]).canonical(), cut_s=2)
    alone, mixed = alone.take(alone.signal == target), mixed.take(mixed.signal == target)
    assert len(alone) > 100
    np.testing.assert_array_equal(mixed.ts, alone.ts)
    np.testing.assert_array_equal(mixed.value, alone.value)


def test_a_period_that_stays_open_holds_no_more_than_the_limit(
    catalog: SignalCatalog, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A flow sample stamped an hour ahead sets the open period's end an hour ahead; the
    1 s batches until then close nothing and were all kept (every signal of each) until it
    closed. Past the limit they are added up, to the same rows."""
    samples = stream(catalog, 1.2)
    ahead = SampleBatch.of(np.array([catalog.id(FLOW)]), np.array([START + 3600 * NS]), [10.0])

    def run_kept(limit: int) -> tuple[np.ndarray, np.ndarray, int]:
        monkeypatch.setattr(online, "KEEP_LIMIT", limit, raising=False)
        monitor = HealthMonitors(catalog).monitors[0]
        times, values, most = [], [], 0
        batches = [ahead, *(samples.take(samples.ts // NS == START // NS + k) for k in range(4320))]
        for part in batches:
            t, v = monitor.rows(part)
            times.append(t)
            values.append(v)
            most = max(most, sum(len(s) for s, _, _ in monitor._pending))
        return np.concatenate(times), np.concatenate(values), most

    t_all, v_all, most_all = run_kept(10**9)
    t_cut, v_cut, most_cut = run_kept(1000)
    assert most_all > 10_000  # the hour of batches, without the limit
    assert most_cut <= 1000
    assert len(t_all) > 100
    np.testing.assert_array_equal(t_cut, t_all)
    np.testing.assert_array_equal(v_cut, v_all)

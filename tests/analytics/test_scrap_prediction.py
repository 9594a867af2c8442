"""Scrap prediction on seeded demo-line histories: the join, the model, the live signal."""

from __future__ import annotations

import numpy as np
import pytest

from plantwin.analytics.quality.features import part_table
from plantwin.analytics.quality.online import Predictions
from plantwin.analytics.registry import ModelRegistry
from plantwin.core.clock import ManualClock
from plantwin.core.records import AlarmEvent
from plantwin.core.samples import SampleBatch
from plantwin.ingest import Ingestor
from plantwin.model.catalog import SignalCatalog
from plantwin.model.loader import load_plant
from plantwin.model.plant import Plant
from plantwin.processing.processor import RuleProcessor
from plantwin.runtime.demo_history import DAY_S, START_NS, demo_history
from plantwin.runtime.prediction_study import (
    DEMO_LAYOUT,
    ModelRecord,
    ScrapStudy,
    register,
    scrap_study,
)
from plantwin.runtime.predictions import prediction_stage
from plantwin.simulation.demo_plant import DemoLine
from plantwin.store import MemoryStore
from plantwin.twin import TwinState
from tests.conftest import ROOT

TARGET = "changwon.L1/scrap_probability"
TRAIN_DAYS, TEST_DAYS = 10, 5


@pytest.fixture(scope="module")
def plant() -> Plant:
    return load_plant(ROOT / "examples" / "machining-line.yaml")


def keys() -> list[str]:
    layout = DEMO_LAYOUT
    return [
        *layout.feature_keys(),
        *(f"{m}/part_count" for m in layout.machines),
        f"{layout.inspection}/good_count",
        f"{layout.inspection}/scrap_count",
    ]


def test_parts_join_their_cmm_verdicts_through_the_counters(plant: Plant) -> None:
    run = demo_history(plant, keys(), seed=3, days=0.5)
    table = part_table(run.history, DEMO_LAYOUT)
    truth = run.truth.parts
    assert len(table) > 300
    # the signals alone give each part its own verdict and the wear it was cut with
    assert table.scrap.tolist() == [not p.good for p in truth[: len(table)]]
    mill_wear = np.array([p.mill_wear_mm for p in truth[: len(table)]])
    assert np.corrcoef(table.x[:, 0], mill_wear)[0, 1] > 0.95


@pytest.fixture(scope="module")
def study(plant: Plant) -> ScrapStudy:
    """One seeded study for both slow tests (training and held-out simulation dominate);
    shorter than `plantwin eval scrap` (14 + 7 days) and still with 30+ held-out scrap."""
    return scrap_study(plant, train_days=TRAIN_DAYS, test_days=TEST_DAYS, seed=1)


@pytest.mark.slow
def test_the_calibrated_model_beats_the_wear_rule_on_a_held_out_run(study: ScrapStudy) -> None:
    e = study.evaluation
    assert e.scrapped >= 30  # enough scrap in the held-out run to mean something
    model, rule = e.model, e.baseline
    base_rate = e.scrapped / e.parts
    climatology = base_rate * (1.0 - base_rate)  # Brier of always predicting the base rate
    assert model.brier is not None
    assert model.brier < 0.8 * climatology
    assert model.roc_auc > 0.7
    f1 = 2 * model.precision * model.recall / (model.precision + model.recall)
    f1_rule = 2 * rule.precision * rule.recall / (rule.precision + rule.recall)
    assert f1 > f1_rule
    assert model.precision > rule.precision
    assert study.record.features == DEMO_LAYOUT.feature_keys()


@pytest.mark.slow
async def test_scrap_probability_streams_through_the_twin_and_its_rule(
    plant: Plant, study: ScrapStudy
) -> None:
    model, names = study.model, DEMO_LAYOUT.feature_names()
    catalog = SignalCatalog(plant, {key: n for n, key in enumerate(plant.signals)})
    async with MemoryStore() as store:
        waiting = await prediction_stage(catalog, store)  # nothing registered yet
        assert waiting is not None
        assert waiting.versions() == {"scrap_probability": 0}
        await register(ModelRegistry(store), model, _record(names))
        stage = await prediction_stage(catalog, store)
    assert isinstance(stage, Predictions)
    start = START_NS + 3 * DAY_S * 10**9
    clock = ManualClock(start)
    ingestor = Ingestor(catalog, clock, max_future_s=DAY_S)
    twin = TwinState(plant, catalog)
    rules = RuleProcessor(twin, catalog, start_ns=start)
    line = DemoLine(plant=plant, seed=2, start_ns=start)
    target = catalog.ids[TARGET]
    outputs, raw_samples, alarms = [], [], []
    for raw in line.run(4 * 3600, chunk_s=60):
        batch = ingestor.process(raw).batch
        update = twin.apply(batch)
        made, _ = stage.process(batch, update.derived)
        more = twin.apply(made)
        derived = SampleBatch.concat([update.derived, made, more.derived]).canonical()
        records = rules.process(SampleBatch.merge_disjoint(batch, derived), update.changes)
        alarms += [r for r in records if isinstance(r, AlarmEvent)]
        outputs.append(made.take(made.signal == target))
        raw_samples.append(batch)
    out = SampleBatch.concat(outputs)
    assert len(out) > 1000  # one every 10 s once every tool signal was seen
    assert set(np.diff(out.ts).tolist()) == {10 * 10**9}
    assert ((out.value >= 0) & (out.value <= 100)).all()
    # each output is the model on the tool values held at its time
    seen = SampleBatch.concat(raw_samples)
    ids = [catalog.ids[k] for k in DEMO_LAYOUT.feature_keys()]
    rows = []
    for t in out.ts[::50]:
        row = []
        for sid in ids:
            mine = (seen.signal == sid) & (seen.ts <= t)
            row.append(seen.value[mine][np.argmax(seen.ts[mine])])
        rows.append(row)
    expected = 100.0 * model.probability(np.array(rows))
    np.testing.assert_allclose(out.value[::50], expected)
    view = {v.key: v for v in twin.view("changwon.L1").signals}
    assert view[TARGET].value == pytest.approx(out.value[-1])  # the line twin shows it
    # the rule sees the signal: it raises exactly when the probability passed 50 %
    raised = [a for a in alarms if a.alarm == "changwon.L1:scrap_likely"]
    assert bool(raised) == bool((out.value > 50.0).any())


def _record(names: list[str]) -> ModelRecord:
    return ModelRecord(
        name="scrap_probability",
        kind="lightgbm+isotonic",
        train_start_ns=START_NS,
        train_end_ns=START_NS + 2 * DAY_S * 10**9,
        features=DEMO_LAYOUT.feature_keys(),
        metrics={},
        params={"columns": ",".join(names)},
    )

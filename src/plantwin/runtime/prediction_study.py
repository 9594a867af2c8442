"""Scrap prediction and energy forecast trained and scored on seeded demo-line histories.

Training and held-out runs use different seeds, so no part or hour of the test is seen in
training. Used by ``plantwin eval scrap`` / ``plantwin eval energy`` and their tests.
"""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo

from plantwin.analytics.forecast.backtest import BacktestScores, backtest
from plantwin.analytics.forecast.energy import QuantileBoost, SeasonalNaive, hourly
from plantwin.analytics.quality.evaluation import THRESHOLD, ScrapEvaluation, scores, wear_rule
from plantwin.analytics.quality.features import ScrapLayout, part_table
from plantwin.analytics.quality.model import ScrapModel, fit_scrap_model
from plantwin.analytics.registry import ModelRegistry
from plantwin.core.models import ModelInfo, ParamValue
from plantwin.model.plant import Plant
from plantwin.runtime.demo_history import demo_history

# The example plant file's twins (examples/machining-line.yaml)
DEMO_LAYOUT = ScrapLayout(
    machines=("changwon.L1.mill1", "changwon.L1.lathe1"), inspection="changwon.L1.cmm1"
)
DEMO_METER = "changwon.meter1/energy"
DEMO_ZONE = "Asia/Seoul"
WEAR_LIMIT_MM = 0.3  # the plant file's "worn" rule on the cutting tool


@dataclass(frozen=True, slots=True, kw_only=True)
class ModelRecord:
    """What a model registry keeps of a trained model (the seam for analytics/registry)."""

    name: str
    kind: str
    train_start_ns: int
    train_end_ns: int
    features: list[str]
    metrics: dict[str, float]
    params: dict[str, ParamValue]


@dataclass(frozen=True, slots=True, kw_only=True)
class ScrapStudy:
    evaluation: ScrapEvaluation
    record: ModelRecord
    model: ScrapModel


def scrap_study(
    plant: Plant,
    *,
    train_days: float,
    test_days: float,
    seed: int = 1,
    layout: ScrapLayout = DEMO_LAYOUT,
) -> ScrapStudy:
    """Fit on ``train_days`` of seed ``seed``, score ``test_days`` of seed ``seed + 1``."""
    keys = [
        *layout.feature_keys(),
        *(f"{m}/part_count" for m in layout.machines),
        f"{layout.inspection}/good_count",
        f"{layout.inspection}/scrap_count",
    ]
    train_run = demo_history(plant, keys, seed=seed, days=train_days)
    test_run = demo_history(plant, keys, seed=seed + 1, days=test_days)
    train, test = part_table(train_run.history, layout), part_table(test_run.history, layout)
    model = fit_scrap_model(train.x, train.scrap, train.names, seed=seed)
    wear = [n for n, name in enumerate(test.names) if name.endswith(".wear")]
    evaluation = ScrapEvaluation(
        parts=len(test),
        scrapped=int(test.scrap.sum()),
        model=scores(model.probability(test.x), test.scrap, threshold=THRESHOLD, probability=True),
        baseline=scores(
            wear_rule(test.x, wear), test.scrap, threshold=WEAR_LIMIT_MM, probability=False
        ),
        baseline_rule=f"most worn tool's flank wear above {WEAR_LIMIT_MM} mm",
    )
    m = evaluation.model
    record = ModelRecord(
        name="scrap_probability",
        kind="lightgbm+isotonic",
        train_start_ns=train_run.history.start_ns,
        train_end_ns=train_run.history.end_ns,
        features=layout.feature_keys(),
        metrics={
            "roc_auc": m.roc_auc,
            "brier": m.brier or 0.0,
            "precision": m.precision,
            "recall": m.recall,
        },
        params={"seed": seed, "train_parts": len(train), "threshold": THRESHOLD},
    )
    return ScrapStudy(evaluation=evaluation, record=record, model=model)


@dataclass(frozen=True, slots=True, kw_only=True)
class EnergyStudy:
    horizon: int
    model: BacktestScores
    baseline: BacktestScores
    record: ModelRecord
    forecaster: QuantileBoost


def energy_study(
    plant: Plant,
    *,
    train_days: float,
    test_days: float,
    horizon: int = 6,
    seed: int = 1,
    meter: str = DEMO_METER,
    zone: str = DEMO_ZONE,
) -> EnergyStudy:
    """Fit both forecasters on seed ``seed``; rolling-origin backtest on seed ``seed + 1``."""
    tz = ZoneInfo(zone)
    runs = [
        demo_history(plant, [meter], seed=s, days=d)
        for s, d in ((seed, train_days), (seed + 1, test_days))
    ]
    train, test = (
        hourly(r.history[meter], tz, start_ns=r.history.start_ns, end_ns=r.history.end_ns)
        for r in runs
    )
    boost, naive = QuantileBoost(horizon=horizon, seed=seed), SeasonalNaive(horizon)
    boost.fit(train)
    naive.fit(train)
    model, baseline = backtest(boost, test), backtest(naive, test)
    record = ModelRecord(
        name="energy_forecast",
        kind="lightgbm-quantile+conformal",
        train_start_ns=runs[0].history.start_ns,
        train_end_ns=runs[0].history.end_ns,
        features=[meter, *boost.features],
        metrics={
            "mae_kwh": model.mae_kwh,
            "mape_percent": model.mape_percent,
            "coverage_80": model.coverage,
        },
        params={"seed": seed, "horizon_h": horizon, "train_hours": len(train)},
    )
    return EnergyStudy(
        horizon=horizon, model=model, baseline=baseline, record=record, forecaster=boost
    )


async def register(registry: ModelRegistry, model: object, record: ModelRecord) -> ModelInfo:
    """Store a studied model as the next version of its name in the model registry."""
    return await registry.register(
        record.name,
        model,
        kind=record.kind,
        data_start=record.train_start_ns,
        data_end=record.train_end_ns,
        data_sources=["demo"],
        features=record.features,
        metrics=record.metrics,
        params=record.params,
    )

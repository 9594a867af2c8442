"""ISO 22400-2 formulas against hand-computed cases (DOMAIN.md section 1.3)."""

from __future__ import annotations

import numpy as np
import pytest

from plantwin.model.plant import MtbfDivisor
from plantwin.processing.kpis.counters import increases
from plantwin.processing.kpis.formulas import asset_inputs, group_inputs, kpi_values
from plantwin.processing.kpis.timeline import TimeElements

MIN = 60.0


def worked_check() -> dict[str, float]:
    """POT 480 min, planned down 30 -> PBT 450; ADOT 20, ADET 25, AUST 15 -> APT 390;
    PRU 0.5 min, PQ 700, GQ 680 (SQ 12, RQ 8)."""
    te = TimeElements(
        pot=480 * MIN,
        pdot=30 * MIN,
        apt=390 * MIN,
        aust=15 * MIN,
        adet=25 * MIN,
        adot=20 * MIN,
        unknown=0.0,
        minor_stops=0.0,
        failures=2,
    )
    return asset_inputs(
        te,
        planned_s=450 * MIN,
        quantities={"pq": 700.0, "gq": 680.0, "sq": 12.0, "rq": 8.0},
        pru_s=0.5 * MIN,
        divisor=MtbfDivisor.FAILURES,
        energy_kwh=340.0,
    )


def test_worked_check_of_domain_1_3() -> None:
    inputs = worked_check()
    assert inputs["pbt_s"] == 450 * MIN
    v = kpi_values(inputs, asset=True)
    assert v["availability"] == pytest.approx(0.8667, abs=5e-5)
    assert v["effectiveness"] == pytest.approx(0.8974, abs=5e-5)
    assert v["quality"] == pytest.approx(0.9714, abs=5e-5)
    assert v["oee"] == pytest.approx(0.7556, abs=5e-5)
    assert v["oee"] == pytest.approx(0.5 * 680 / 450)
    assert v["nee"] == pytest.approx(0.7846, abs=5e-5)
    assert v["technical_efficiency"] == pytest.approx(0.9398, abs=5e-5)
    assert v["scrap_ratio"] == pytest.approx(12 / 700)
    assert v["rework_ratio"] == pytest.approx(8 / 700)
    assert v["cycle_time_s"] == pytest.approx(390 * 60 / 700)
    assert v["throughput_per_h"] == pytest.approx(700 / 7.5)  # PQ / AOET, AOET = PBT
    assert v["energy_per_good_kwh"] == pytest.approx(0.5)
    # MTBF: operating time (APT + AUST) per failure; MTTR: delay time per failure
    assert v["mtbf_h"] == pytest.approx(405 / 60 / 2)
    assert v["mttr_h"] == pytest.approx(25 / 60 / 2)


def test_effectiveness_is_never_clamped() -> None:
    inputs = worked_check()
    inputs["pru_pq_s"] = inputs["apt_s"] * 1.25  # PRU set longer than the real cycle
    inputs["pru_gq_s"] = inputs["pru_pq_s"] * 680 / 700
    v = kpi_values(inputs, asset=True)
    assert v["effectiveness"] == pytest.approx(1.25)
    assert v["oee"] == pytest.approx(v["availability"] * 1.25 * 680 / 700)  # type: ignore[operator]


def test_mtbf_with_both_divisors_and_no_failures() -> None:
    inputs = worked_check()
    plus_one = {**inputs, "mtbf_extra": 1.0}
    assert kpi_values(plus_one, asset=True)["mtbf_h"] == pytest.approx(405 / 60 / 3)
    assert kpi_values(plus_one, asset=True)["mttr_h"] == pytest.approx(25 / 60 / 2)  # FE only
    none = {**inputs, "failures": 0.0, "adet_s": 0.0}
    assert kpi_values(none, asset=True)["mtbf_h"] is None  # undefined without a failure
    assert kpi_values(none, asset=True)["mttr_h"] is None
    assert kpi_values({**none, "mtbf_extra": 1.0}, asset=True)["mtbf_h"] == pytest.approx(405 / 60)


def test_group_weights_by_planned_busy_time_and_part_value() -> None:
    a = worked_check()
    b = {**worked_check(), "pbt_s": 900 * MIN, "apt_s": 800 * MIN}
    b["pru_pq_s"] = 600.0 * 60  # 600 parts at 60 s
    b["pru_gq_s"] = 590.0 * 60
    b.update(pq=600.0, gq=590.0, sq=10.0, rq=0.0, aoet_s=900 * MIN)
    line = group_inputs([a, b], planned_s=480 * MIN, output=b)
    v = kpi_values(line, asset=False)
    pbt = 450 + 900
    assert v["availability"] == pytest.approx((390 + 800) / pbt)
    assert v["oee"] == pytest.approx((0.5 * 680 + 1.0 * 590) / pbt)
    assert v["oee"] == pytest.approx(v["availability"] * v["effectiveness"] * v["quality"])  # type: ignore[operator]
    assert v["scrap_ratio"] == pytest.approx(10 / 600)  # the line's output: asset b
    assert v["energy_per_good_kwh"] == pytest.approx(680 / 590)  # all energy / output's good
    assert v["cycle_time_s"] is None  # not defined for a group
    site = group_inputs([a, b], planned_s=480 * MIN, output=None, lines=[line, line])
    s = kpi_values(site, asset=False)
    assert s["throughput_per_h"] == pytest.approx(1200 / 8)  # both lines' parts per planned h


def test_counter_increase_survives_resets_and_uses_the_baseline() -> None:
    ts = np.array([0, 10, 20, 30, 40, 50], np.int64)
    value = np.array([100.0, 150.0, 170.0, 20.0, 50.0, 55.0])  # reset between 20 and 30
    first, second, late = increases(ts, value, [(5, 25), (25, 60), (60, 70)])
    assert (first.value, first.resets) == (70.0, 0)  # from the baseline 100 at ts 0
    assert (second.value, second.resets) == (20.0 + 30.0 + 5.0, 1)
    assert (late.value, late.resets) == (0.0, 0)
    (whole,) = increases(ts, value, [(0, 100)])
    assert whole.value == first.value + second.value
    assert whole.no_baseline  # the first sample is 100: parts before it are unknown

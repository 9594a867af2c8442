"""DemoSettings: the numbers it derives (bearing life, wear slope, implied availability)."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from plantwin.simulation.demo_plant import DemoSettings
from plantwin.simulation.demo_plant.cnc import flank_wear
from plantwin.simulation.demo_plant.settings import BearingSettings


def test_bearing_mean_life_matches_a_monte_carlo_of_the_model() -> None:
    b = BearingSettings()
    rng = np.random.default_rng(0)
    n = 200_000
    onset = b.onset_eta_h * rng.weibull(b.onset_shape, n)
    a = b.growth_a_mm_s * rng.lognormal(-(b.a_sigma**2) / 2, b.a_sigma, n)
    tau = b.growth_tau_h * rng.lognormal(-(b.tau_sigma**2) / 2, b.tau_sigma, n)
    life = onset + tau * np.log1p((b.failure_mm_s - b.v0_mm_s) / a)
    assert b.mean_life_h() == pytest.approx(life.mean(), rel=0.01)
    assert 48 < b.mean_life_h() < 96  # "a few simulated days" of spindle time


def test_bearing_alarm_leads_the_failure() -> None:
    # DOMAIN 7 alarms at 4.5 mm/s (warning 2.8); the bearing fails at 7.1 mm/s, hours later
    b = BearingSettings()
    rise = b.failure_mm_s - b.v0_mm_s + b.growth_a_mm_s

    def hours_before_failure(level: float) -> float:
        return b.growth_tau_h * math.log(rise / (level - b.v0_mm_s + b.growth_a_mm_s))

    assert b.failure_mm_s == 7.1
    assert 2.0 < hours_before_failure(4.5) < 5.0  # spindle hours, mean growth parameters
    assert hours_before_failure(2.8) > 2 * hours_before_failure(4.5)


@pytest.mark.parametrize("machine", ["mill", "lathe"])
def test_tool_life_follows_taylor_from_the_cutting_speed(machine: str) -> None:
    cnc = getattr(DemoSettings(), machine)
    t = cnc.tool
    # the cutting diameter is the nominal dimension: turned OD, end mill = slot width
    assert t.cutting_speed_m_min == pytest.approx(
        math.pi * cnc.quality.nominal_mm * cnc.speed_rpm / 1000
    )
    assert t.cutting_speed_m_min * t.life_min**t.taylor_n == pytest.approx(t.taylor_c_m_min)
    assert (t.taylor_n, t.taylor_c_m_min) == (0.25, 500.0)  # DOMAIN 4, carbide in steel
    # planned change a little before the mean life, so most tools stay below VB 0.3 mm
    planned_min = t.change_parts * cnc.cut_s / 60.0
    assert 0.8 < planned_min / t.life_min < 0.95


def test_lathe_tool_life_is_the_domain_example() -> None:
    t = DemoSettings().lathe.tool
    assert t.cutting_speed_m_min == pytest.approx(201, abs=0.5)
    assert t.life_min == pytest.approx(38.2, abs=0.1)  # (500 / 201)^4


def test_flank_wear_reaches_the_iso_3685_criterion_at_tool_life() -> None:
    t = DemoSettings().lathe.tool
    slope = t.slope_mm_per_min()
    assert flank_wear(t, slope, t.life_min) == pytest.approx(0.3)
    assert flank_wear(t, slope, 10.0) == pytest.approx(
        t.vb_break_in_mm * (1 - math.exp(-10.0 / t.break_in_min)) + slope * 10.0
    )
    curve = [flank_wear(t, slope, m) for m in np.linspace(0, 1.3 * t.life_min, 200)]
    rate = np.diff(curve)
    assert (rate > 0).all()
    assert rate[0] > rate[80] < rate[-1]  # break-in, steady, accelerating


def test_implied_availability() -> None:
    s = DemoSettings()
    ratio = sum(mttr / mtbf for mtbf, mttr in s.failure_modes("mill1"))
    assert s.implied_availability("mill1") == pytest.approx(1 / (1 + ratio))
    assert s.implied_availability("mill1", utilization=0.0) == 1.0
    assert s.implied_availability("mill1", 0.5) > s.implied_availability("mill1", 1.0)
    for asset in ("mill1", "lathe1", "washer1", "cmm1", "buf_in", "compressor1"):
        assert 0.85 < s.implied_availability(asset) < 1.0
    with pytest.raises(KeyError, match="meter1"):
        s.implied_availability("meter1")


def test_settings_are_frozen() -> None:
    s = DemoSettings()
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.auto_reset = False  # type: ignore[misc]

"""CNC machine: spindle bearing degradation, tool wear, cutting power, coolant, part dimensions."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from plantwin.simulation.demo_plant.base import (
    DOWN,
    IDLE,
    MAINT,
    RUNNING,
    S_PER_H,
    SETUP,
    Env,
    Part,
)
from plantwin.simulation.demo_plant.conveyor import Conveyor
from plantwin.simulation.demo_plant.rand import lognormal_mean, weibull_mean
from plantwin.simulation.demo_plant.settings import CncSettings, ToolSettings
from plantwin.simulation.demo_plant.station import PROCESS, Station, StationState
from plantwin.simulation.demo_plant.truth import BearingLife, ToolChange

BEARING_CAUSE = "spindle bearing"
STOPPED_VIBRATION = 0.15  # mm/s background on the housing with the spindle at rest (unverified)
BEARING_LOSS = 0.1  # extra friction power at failure, share of rated power (unverified)
# the channels ``physics`` writes each step, in the order of ``Cnc.ch``
PERIODIC = (
    "power",
    "coolant_temp",
    "feed_override",
    "spindle/speed",
    "spindle/power",
    "spindle/current",
    "spindle/vibration",
    "spindle/bearing_temp",
    "tool/wear",
    "tool/cut_time",
)


@dataclass(slots=True, kw_only=True)
class BearingState:
    serial: int
    installed: int  # step
    age_h: float = 0.0  # running hours at nominal speed
    v0: float
    onset_h: float
    a: float
    tau_h: float
    v: float  # true vibration velocity RMS, mm/s


@dataclass(slots=True, kw_only=True)
class ToolState:
    number: int
    rate: float  # this tool's wear-rate multiplier
    eq_min: float = 0.0  # equivalent cutting minutes at reference speed and feed
    cut_min: float = 0.0
    parts: int = 0
    vb: float = 0.0  # flank wear, mm


@dataclass(slots=True, kw_only=True)
class CncState(StationState):
    feed: float = 100.0  # percent
    speed: float  # rpm of the current program
    speed_next: float  # rpm for the next program
    coolant: float
    bearing_temp: float
    bearing: BearingState
    tool: ToolState


def new_bearing(rng: np.random.Generator, s: CncSettings, serial: int, step: int) -> BearingState:
    b = s.bearing
    v0 = max(0.3, float(rng.normal(b.v0_mm_s, b.v0_sd_mm_s)))
    return BearingState(
        serial=serial,
        installed=step,
        v0=v0,
        onset_h=weibull_mean(rng, b.onset_eta_h * math.gamma(1 + 1 / b.onset_shape), b.onset_shape),
        a=lognormal_mean(rng, b.growth_a_mm_s, b.a_sigma),
        tau_h=lognormal_mean(rng, b.growth_tau_h, b.tau_sigma),
        v=v0,
    )


def flank_wear(t: ToolSettings, slope: float, minutes: float) -> float:
    """VB in mm after ``minutes`` of equivalent cutting: break-in, linear, accelerating."""
    vb = t.vb_break_in_mm * (1.0 - math.exp(-minutes / t.break_in_min)) + slope * minutes
    rapid = minutes / t.life_min - t.rapid_start
    if rapid > 0.0:
        vb += t.rapid_c_mm * (math.exp(rapid / t.rapid_tau) - 1.0)
    return vb


def new_tool(rng: np.random.Generator, s: CncSettings, number: int) -> ToolState:
    return ToolState(number=number, rate=lognormal_mean(rng, 1.0, s.tool.rate_sigma))


class Cnc(Station):
    """Mill or lathe; ``dimension`` is the feature it cuts: "width" or "diameter"."""

    x: CncState
    s: CncSettings

    def __init__(
        self,
        *,
        name: str,
        x: CncState,
        env: Env,
        settings: CncSettings,
        upstream: Conveyor,
        downstream: Conveyor,
        dimension: str,
    ) -> None:
        super().__init__(
            name=name, x=x, env=env, settings=settings, upstream=upstream, downstream=downstream
        )
        self.dimension = dimension
        t = settings.tool
        self.vb_slope = t.slope_mm_per_min()
        self.wear_exp_speed = 1.0 / t.taylor_n
        self.wear_exp_feed = t.feed_m / t.taylor_n
        self.tan_alpha = math.tan(math.radians(t.clearance_deg))
        self.k_cool = 1.0 - math.exp(-1.0 / (settings.coolant_tau_min * 60.0))
        self.k_bear = 1.0 - math.exp(-1.0 / (settings.bearing_tau_min * 60.0))
        self.amps_per_kw = env.site.line_amps(1.0)
        self.i_mag = 0.25 * settings.rated_kw * self.amps_per_kw  # magnetising (unverified)
        self.power_by_state = {
            IDLE: settings.base_kw,
            RUNNING: settings.base_kw + settings.aux_kw,
            SETUP: settings.base_kw + 0.5,
            DOWN: 0.4 * settings.base_kw,
            MAINT: 0.3,
        }
        self.air_by_state = {
            IDLE: settings.air_idle,
            RUNNING: settings.air_run,
            SETUP: settings.air_setup,
            DOWN: 0.0,
            MAINT: 0.0,
        }
        self.ch = self.chans(*PERIODIC)
        self.ch_tool_parts = self.chan("tool/parts")

    @staticmethod
    def new_state(rng: np.random.Generator, s: CncSettings, ambient: float) -> CncState:
        return CncState(
            ttf=Station.first_ttf(rng, s.failures),
            pm_next=Station.first_pm(s.maintenance),
            speed=s.speed_rpm,
            speed_next=s.speed_rpm,
            coolant=ambient,
            bearing_temp=ambient,
            bearing=new_bearing(rng, s, 1, 0),
            tool=new_tool(rng, s, 1),
        )

    def announce(self) -> None:
        super().announce()
        self.em.preset(self.ch_tool_parts, float(self.x.tool.parts))

    # ---------------------------------------------------------------- commands
    def set_feed(self, percent: float) -> None:
        self.x.feed = percent

    def set_speed(self, rpm: float) -> None:
        self.x.speed_next = rpm

    # ---------------------------------------------------------------- station hooks
    def new_work(self) -> float:
        return lognormal_mean(self.rng, self.s.cut_s, self.s.cycle_sigma)

    def rate(self) -> float:
        x = self.x
        return x.feed / 100.0 * x.speed / self.s.speed_rpm

    def on_start(self) -> None:
        self.x.speed = self.x.speed_next

    def finish(self, part: Part) -> None:
        x, q = self.x, self.s.quality
        tool = x.tool
        dev = q.bias_mm + q.wear_sign * 2.0 * tool.vb * self.tan_alpha
        dev += float(self.rng.normal(0.0, q.sigma_mm))
        if float(self.rng.random()) < q.defect_p:
            shift = float(self.rng.uniform(*q.defect_mm))
            dev += shift if float(self.rng.random()) < 0.5 else -shift
            part.defect = f"{self.name}: clamping"
        if self.dimension == "width":
            part.width = q.nominal_mm + dev
            part.mill_wear = tool.vb
        else:
            part.diameter = q.nominal_mm + dev
            part.lathe_wear = tool.vb
        tool.parts += 1
        self.em.event(self.ch_tool_parts, float(tool.parts))

    def setup_due(self) -> bool:
        tool = self.x.tool
        return tool.parts >= self.s.tool.change_parts or tool.vb >= self.s.tool.wear_limit_mm

    def setup_seconds(self) -> float:
        t = self.s.tool
        return lognormal_mean(self.rng, t.setup_min * 60.0, t.setup_sigma)

    def finish_setup(self) -> None:
        x, ctx = self.x, self.ctx
        old = x.tool
        planned = old.parts >= self.s.tool.change_parts
        self.truth.tools.append(
            ToolChange(
                asset=self.name,
                tool=old.number,
                start_ns=ctx.ns_at(x.setup_since),
                end_ns=ctx.ns(),
                parts=old.parts,
                cut_min=old.cut_min,
                wear_mm=old.vb,
                reason="planned" if planned else "wear limit",
            )
        )
        x.tool = new_tool(self.rng, self.s, old.number + 1)
        self.em.event(self.ch_tool_parts, 0.0)

    def on_repaired(self) -> None:
        x, ctx = self.x, self.ctx
        if x.cause != BEARING_CAUSE:
            return
        b = x.bearing
        self.truth.bearings.append(
            BearingLife(
                asset=self.name,
                serial=b.serial,
                installed_ns=ctx.ns_at(b.installed),
                failed_ns=ctx.ns_at(x.down_since),
                replaced_ns=ctx.ns(),
                running_h=b.age_h,
                onset_h=b.onset_h,
                vibration_mm_s=b.v,
            )
        )
        x.bearing = new_bearing(self.rng, self.s, b.serial + 1, ctx.step)

    # ---------------------------------------------------------------- physics
    def _wear(self, ratio: float, feed: float) -> float:
        """Advance tool and bearing by one cutting second; returns the bearing degradation."""
        x, c = self.x, self.s
        tool, t = x.tool, c.tool
        tool.cut_min += 1.0 / 60.0
        tool.eq_min += tool.rate * ratio**self.wear_exp_speed * feed**self.wear_exp_feed / 60.0
        tool.vb = flank_wear(t, self.vb_slope, tool.eq_min)
        b = x.bearing
        b.age_h += ratio / S_PER_H
        if b.age_h > b.onset_h:
            b.v = b.v0 + b.a * (math.exp((b.age_h - b.onset_h) / b.tau_h) - 1.0)
        return min(1.0, (b.v - b.v0) / (c.bearing.failure_mm_s - b.v0))

    def physics(self) -> None:
        x, c = self.x, self.s
        state = x.state
        tool, b = x.tool, x.bearing
        spinning = state == RUNNING and x.phase == PROCESS
        if spinning:
            ratio = x.speed / c.speed_rpm
            feed = x.feed / 100.0
            deg = self._wear(ratio, feed)
            wear_k = 1.0 + 0.5 * tool.vb / 0.3  # DOMAIN 4: +20-50 % at VB 0.3 mm
            p_sp = (
                c.spin_kw * ratio
                + c.cut_kw * ratio * feed * wear_k
                + BEARING_LOSS * c.rated_kw * deg * ratio
            )
            speed = x.speed
            vib = b.v + c.tool_vib_mm_s * tool.vb / 0.3
            amps = math.hypot(self.i_mag, p_sp * self.amps_per_kw)
            rise = c.rise_speed_k * ratio + c.rise_load_k * p_sp / c.rated_kw + c.rise_wear_k * deg
        else:
            p_sp = speed = amps = rise = 0.0
            vib = STOPPED_VIBRATION
        x.power = self.power_by_state[state] + p_sp
        x.air = self.air_by_state[state]
        x.coolant += (self.ctx.ambient + c.coolant_k_per_kw * p_sp - x.coolant) * self.k_cool
        x.bearing_temp += (x.coolant + rise - x.bearing_temp) * self.k_bear
        row, ch = self.row, self.ch
        row[ch[0]] = x.power
        row[ch[1]] = x.coolant
        row[ch[2]] = x.feed
        row[ch[3]] = speed
        row[ch[4]] = p_sp
        row[ch[5]] = amps
        row[ch[6]] = vib
        row[ch[7]] = x.bearing_temp
        row[ch[8]] = tool.vb
        row[ch[9]] = tool.cut_min
        if spinning and b.v >= c.bearing.failure_mm_s:
            repair = lognormal_mean(self.rng, c.bearing.mttr_h * S_PER_H, c.bearing.repair_sigma)
            self.fail(BEARING_CAUSE, repair, random_failure=False)

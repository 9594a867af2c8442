"""Parts washer (heated tank, spray pump, air blow-off) and the CMM that inspects every part."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from plantwin.simulation.demo_plant.base import DOWN, IDLE, MAINT, RUNNING, SETUP, Env, Part
from plantwin.simulation.demo_plant.conveyor import Conveyor
from plantwin.simulation.demo_plant.settings import CmmSettings, QualitySettings, WasherSettings
from plantwin.simulation.demo_plant.station import PROCESS, Station, StationState
from plantwin.simulation.demo_plant.truth import Inspection


@dataclass(slots=True, kw_only=True)
class WasherState(StationState):
    tank: float  # degC
    heater_on: bool = False


class Washer(Station):
    """Wash (pump on) then blow off (compressed air); a thermostat holds the tank at 60 C."""

    x: WasherState
    s: WasherSettings

    def __init__(
        self,
        *,
        name: str,
        x: WasherState,
        env: Env,
        settings: WasherSettings,
        upstream: Conveyor,
        downstream: Conveyor,
    ) -> None:
        super().__init__(
            name=name, x=x, env=env, settings=settings, upstream=upstream, downstream=downstream
        )
        self.pump_amps = env.site.line_amps(settings.pump_kw)
        self.ch = self.chans("tank_temp", "heater_power", "pump_current", "power")

    @staticmethod
    def new_state(rng: np.random.Generator, s: WasherSettings) -> WasherState:
        return WasherState(
            ttf=Station.first_ttf(rng, s.failures),
            pm_next=Station.first_pm(s.maintenance),
            tank=s.setpoint_c,
        )

    def new_work(self) -> float:
        return self.s.wash_s + self.s.blow_s

    def can_start(self) -> bool:
        return self.ctx.air_ok and self.x.tank >= self.s.min_temp_c

    def physics(self) -> None:
        x, w = self.x, self.s
        processing = x.state == RUNNING and x.phase == PROCESS
        pumping = processing and x.left > w.blow_s
        blowing = processing and not pumping
        if x.state in (DOWN, MAINT):
            x.heater_on = False
        elif x.tank < w.setpoint_c - w.hysteresis_k:
            x.heater_on = True
        elif x.tank > w.setpoint_c + w.hysteresis_k:
            x.heater_on = False
        heater = w.heater_kw if x.heater_on else 0.0
        loss = w.loss_kw_per_k * (x.tank - self.ctx.ambient)
        if pumping:
            loss += w.spray_loss_kw
        x.tank += (heater - loss) / w.tank_c_kj_per_k  # kW * 1 s = kJ
        pump = w.pump_kw if pumping else 0.0
        base = 0.2 if x.state in (DOWN, MAINT) else w.base_kw
        x.power = base + heater + pump
        x.air = w.air_blow if blowing else 0.0
        row, ch = self.row, self.ch
        row[ch[0]] = x.tank
        row[ch[1]] = heater
        row[ch[2]] = self.pump_amps if pumping else 0.0
        row[ch[3]] = x.power


@dataclass(slots=True, kw_only=True)
class CmmState(StationState):
    good: int = 0
    scrap: int = 0


class Cmm(Station):
    """Measures the turned diameter and the milled slot width of every part; good or scrap."""

    x: CmmState
    s: CmmSettings

    def __init__(
        self,
        *,
        name: str,
        x: CmmState,
        env: Env,
        settings: CmmSettings,
        upstream: Conveyor,
        diameter: QualitySettings,
        width: QualitySettings,
    ) -> None:
        super().__init__(name=name, x=x, env=env, settings=settings, upstream=upstream)
        self.nominal_d = diameter.nominal_mm
        self.nominal_w = width.nominal_mm
        self.power_by_state = {
            IDLE: settings.base_kw,
            RUNNING: settings.base_kw,
            SETUP: settings.base_kw,
            DOWN: 0.3,
            MAINT: 0.2,
        }
        self.ch_power, self.ch_d, self.ch_w, self.ch_good, self.ch_scrap = self.chans(
            "power", "diameter", "width", "good_count", "scrap_count"
        )

    @staticmethod
    def new_state(rng: np.random.Generator, s: CmmSettings) -> CmmState:
        return CmmState(
            ttf=Station.first_ttf(rng, s.failures), pm_next=Station.first_pm(s.maintenance)
        )

    def announce(self) -> None:
        super().announce()
        self.em.preset(self.ch_good, 0.0)
        self.em.preset(self.ch_scrap, 0.0)

    def new_work(self) -> float:
        return self.s.measure_s

    def finish(self, part: Part) -> None:
        x, m, em = self.x, self.s, self.em
        d = part.diameter + float(self.rng.normal(0.0, m.probe_sigma_mm))
        w = part.width + float(self.rng.normal(0.0, m.probe_sigma_mm))
        good = (
            abs(d - self.nominal_d) <= m.tolerance_mm and abs(w - self.nominal_w) <= m.tolerance_mm
        )
        em.event(self.ch_d, d)
        em.event(self.ch_w, w)
        if good:
            x.good += 1
            em.event(self.ch_good, float(x.good))
        else:
            x.scrap += 1
            em.event(self.ch_scrap, float(x.scrap))
        self.truth.parts.append(
            Inspection(
                ts_ns=self.ctx.ns(),
                part=part.id,
                diameter_true=part.diameter,
                width_true=part.width,
                diameter=d,
                width=w,
                good=good,
                mill_wear_mm=part.mill_wear,
                lathe_wear_mm=part.lathe_wear,
                defect=part.defect,
            )
        )

    def physics(self) -> None:
        x = self.x
        measuring = x.state == RUNNING and x.phase == PROCESS
        x.power = self.power_by_state[x.state] + (self.s.drive_kw if measuring else 0.0)
        x.air = 0.0 if x.state == MAINT else self.s.air
        self.row[self.ch_power] = x.power

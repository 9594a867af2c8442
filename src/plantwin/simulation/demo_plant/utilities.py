"""Site utilities: the screw compressor on the air header, local time, weather, site meter."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

import numpy as np

from plantwin.core.errors import ConnectorError
from plantwin.model.plant import Plant, TwinKind
from plantwin.simulation.demo_plant.base import (
    DOWN,
    IDLE,
    MAINT,
    NS_PER_S,
    OFF,
    RUNNING,
    Asset,
    AssetState,
    Ctx,
    Env,
)
from plantwin.simulation.demo_plant.settings import CompressorSettings, SiteSettings

UNLOADED, LOADED = IDLE, RUNNING  # compressor codes 0 and 1 in the plant file
P_ATM = 1.013  # bar
QUARTER_HOUR_S = 900


@dataclass(slots=True, kw_only=True)
class CompressorState(AssetState):
    pressure: float  # header pressure, bar gauge
    setpoint: float  # bar gauge, middle of the load/unload band
    discharge_temp: float
    unloaded_s: int = 0


class Compressor(Asset):
    """Load/unload control on a pressure band; motor stops after a run-on time unloaded.

    Header pressure integrates (delivered - consumed) free air over the receiver volume;
    consumers and leaks flow in proportion to absolute pressure (orifice flow, DOMAIN 5).
    """

    x: CompressorState
    s: CompressorSettings

    def __init__(
        self, *, name: str, x: CompressorState, env: Env, settings: CompressorSettings
    ) -> None:
        super().__init__(
            name=name, x=x, env=env, settings=settings, maintenance=settings.maintenance
        )
        self.k_hot = 1.0 - math.exp(-1.0 / 180.0)  # discharge temperature lag (unverified)
        self.k_cold = 1.0 - math.exp(-1.0 / 1200.0)
        self.ch = self.chans("pressure", "flow", "power", "discharge_temp")

    @staticmethod
    def new_state(
        rng: np.random.Generator, s: CompressorSettings, ambient: float
    ) -> CompressorState:
        return CompressorState(
            state=LOADED,
            ttf=Asset.first_ttf(rng, s.failures),
            pm_next=Asset.first_pm(s.maintenance),
            pressure=s.setpoint_bar,
            setpoint=s.setpoint_bar,
            discharge_temp=ambient + s.temp_rise_loaded_k,
        )

    def set_pressure(self, bar: float) -> None:
        self.x.setpoint = bar

    def resume_state(self) -> int:
        return OFF

    def _control(self) -> None:
        x, s = self.x, self.s
        p = x.pressure
        low = x.setpoint - s.band_bar / 2
        high = x.setpoint + s.band_bar / 2
        state = x.state
        if state == LOADED:
            if p >= high:
                x.unloaded_s = 0
                self.set_state(UNLOADED)
        elif state == UNLOADED:
            x.unloaded_s += 1
            if p <= low:
                self.set_state(LOADED)
            elif x.unloaded_s >= s.run_on_s:
                self.set_state(OFF)
        elif p <= low:
            self.set_state(LOADED)
        if x.state in (UNLOADED, OFF) and self.pm_due():
            self.start_pm()

    def step(self, demand: float) -> None:
        """One second with ``demand`` m3/min of free air drawn by the machines at 7 bar."""
        x, s, ctx = self.x, self.s, self.ctx
        state = x.state
        if state == DOWN:
            self.tick_down()
        elif state == MAINT:
            self.tick_pm()
        elif not (state in (LOADED, UNLOADED) and self.operate()):
            self._control()
        state = x.state
        p = x.pressure
        nominal_abs = s.setpoint_bar + P_ATM
        consumed = (demand + s.leak_flow + s.other_demand + s.other_demand_day * ctx.day) * (
            (p + P_ATM) / nominal_abs
        )
        if state == LOADED:
            flow = s.rated_flow * (1.0 - 0.02 * (p - s.setpoint_bar))
            power = s.loaded_kw * (1.0 + s.kw_per_bar * (p - s.setpoint_bar))
            target, k = ctx.ambient + s.temp_rise_loaded_k, self.k_hot
        elif state == UNLOADED:
            flow, power = 0.0, s.loaded_kw * s.unloaded_share
            target, k = ctx.ambient + s.temp_rise_unloaded_k, self.k_hot
        else:
            flow, power = 0.0, 0.0
            target, k = ctx.ambient, self.k_cold
        x.pressure = max(0.0, p + (flow - consumed) / 60.0 * P_ATM / s.volume_m3)
        x.discharge_temp += (target - x.discharge_temp) * k
        x.power = power
        row, ch = self.row, self.ch
        row[ch[0]] = x.pressure
        row[ch[1]] = flow
        row[ch[2]] = power
        row[ch[3]] = x.discharge_temp
        x.tally[state] += 1
        ctx.air_ok = x.pressure >= s.min_machine_bar


def site_zone(plant: Plant, connector: str) -> ZoneInfo:
    """The time zone of the one site whose signals are bound to ``connector``.

    Shift and weather patterns follow the site's local time; the plant file is its only
    source. Bindings at more than one site in different zones are refused.
    """
    zones: dict[str, str] = {}
    for binding in plant.bindings:
        if binding.connector != connector:
            continue
        twin = plant.twins.get(binding.signal.split("#", 1)[0].rsplit("/", 1)[0])
        while twin is not None and twin.kind is not TwinKind.SITE:
            twin = plant.twins.get(twin.parent) if twin.parent is not None else None
        if twin is not None:
            zones[twin.id] = plant.timezones.get(twin.id, "UTC")
    if len(set(zones.values())) > 1:
        listed = ", ".join(f"{site} ({zone})" for site, zone in sorted(zones.items()))
        msg = f"the demo plant simulates one time zone; connector {connector!r} spans {listed}"
        raise ConnectorError(msg)
    return ZoneInfo(next(iter(zones.values()), "UTC"))


class LocalTime:
    """Hour of the day at the site, from UTC seconds and the plant file's IANA time zone.

    The UTC offset is looked up once per quarter hour (zone transitions fall on quarter
    hours), so the result depends only on the time, never on how a run is cut or resumed.
    """

    def __init__(self, zone: ZoneInfo) -> None:
        self.zone = zone
        self._block = -1
        self._offset_s = 0

    def hour(self, utc_s: int) -> float:
        block = utc_s // QUARTER_HOUR_S
        if block != self._block:
            offset = datetime.fromtimestamp(block * QUARTER_HOUR_S, self.zone).utcoffset()
            self._offset_s = 0 if offset is None else round(offset.total_seconds())
            self._block = block
        return ((utc_s + self._offset_s) % 86_400) / 3600.0


def weather(ctx: Ctx, site: SiteSettings, local: LocalTime) -> None:
    """Ambient temperature (peak mid-afternoon) and the day-shift factor of this step."""
    hour = local.hour(ctx.start_ns // NS_PER_S + ctx.step)
    ctx.ambient = site.ambient_c + site.ambient_swing_k * math.sin(
        2.0 * math.pi * (hour - 9.0) / 24.0
    )
    ctx.day = max(0.0, math.sin(math.pi * (hour - 6.0) / 12.0)) if 6.0 <= hour < 18.0 else 0.0


def site_power(ctx: Ctx, site: SiteSettings, assets: float) -> float:
    """Main incomer: all metered assets plus the rest of the site (lighting, HVAC, offices)."""
    return assets + site.base_kw + site.base_day_kw * ctx.day

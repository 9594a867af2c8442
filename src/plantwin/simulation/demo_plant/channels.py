"""The simulator's own signal table: every value it can produce, in the plant file's units.

Keys are ``<asset>[/<component>]/<signal>`` relative to the line or site, so the plant file
decides addresses, rates and source units while the simulator decides values. Periodic
channels get a value every step; event channels only when something happens (and, with
``heartbeat``, again every ``DemoSettings.heartbeat_s``).
"""

from __future__ import annotations

from dataclasses import dataclass

from plantwin.simulation.demo_plant.settings import CNC_ASSETS, CONVEYOR_ASSETS


@dataclass(frozen=True, slots=True, kw_only=True)
class Channel:
    key: str
    periodic: bool
    noise_abs: float = 0.0  # additive measurement noise, signal units
    noise_rel: float = 0.0  # multiplicative measurement noise
    nonneg: bool = True
    heartbeat: bool = False
    integral_of: str | None = None  # energy counters: kWh integral of this power channel


def _p(key: str, noise_abs: float = 0.0, noise_rel: float = 0.0, *, nonneg: bool = True) -> Channel:
    return Channel(key=key, periodic=True, noise_abs=noise_abs, noise_rel=noise_rel, nonneg=nonneg)


def _energy(asset: str) -> Channel:
    return Channel(key=f"{asset}/energy", periodic=True, integral_of=f"{asset}/power")


def _e(key: str, *, heartbeat: bool = True) -> Channel:
    return Channel(key=key, periodic=False, heartbeat=heartbeat)


def _cnc(a: str) -> list[Channel]:
    return [
        _p(f"{a}/power", 0.02, 0.01),
        _energy(a),
        _p(f"{a}/coolant_temp", 0.1),
        _p(f"{a}/feed_override"),
        _p(f"{a}/spindle/speed", 0.0, 0.001),
        _p(f"{a}/spindle/power", 0.0, 0.02),
        _p(f"{a}/spindle/current", 0.0, 0.02),
        _p(f"{a}/spindle/vibration", 0.01, 0.07),  # DOMAIN 3.2: 5-10 % (unverified)
        _p(f"{a}/spindle/bearing_temp", 0.1),
        _p(f"{a}/tool/wear", 0.005),
        _p(f"{a}/tool/cut_time"),
        _e(f"{a}/state"),
        _e(f"{a}/part_count"),
        _e(f"{a}/cycle_time", heartbeat=False),
        _e(f"{a}/tool/parts"),
    ]


def _conveyor(a: str) -> list[Channel]:
    return [
        _p(f"{a}/motor_current", 0.0, 0.03),
        _p(f"{a}/power", 0.0, 0.03),
        _e(f"{a}/state"),
        _e(f"{a}/level"),
    ]


def build_table() -> tuple[Channel, ...]:
    """All channels, periodic ones first; the order fixes noise columns, so keep it stable."""
    chans: list[Channel] = []
    for cnc in CNC_ASSETS:
        chans += _cnc(cnc)
    for conv in CONVEYOR_ASSETS:
        chans += _conveyor(conv)
    chans += [
        _p("washer1/tank_temp", 0.05),
        _p("washer1/heater_power", 0.0, 0.01),
        _p("washer1/pump_current", 0.0, 0.02),
        _p("washer1/power", 0.02, 0.01),
        _energy("washer1"),
        _e("washer1/state"),
        _e("washer1/part_count"),
        _p("cmm1/power", 0.01, 0.01),
        _energy("cmm1"),
        _e("cmm1/state"),
        _e("cmm1/good_count"),
        _e("cmm1/scrap_count"),
        _e("cmm1/diameter", heartbeat=False),
        _e("cmm1/width", heartbeat=False),
        _p("compressor1/pressure", 0.01),
        _p("compressor1/flow", 0.0, 0.01),
        _p("compressor1/power", 0.0, 0.01),
        _energy("compressor1"),
        _p("compressor1/discharge_temp", 0.2),
        _e("compressor1/state"),
        _p("meter1/power", 0.0, 0.005),
        _energy("meter1"),
    ]
    periodic = [c for c in chans if c.periodic]
    events = [c for c in chans if not c.periodic]
    return (*periodic, *events)


class ChannelIndex:
    """Column numbers of the table; periodic channels are columns ``0 .. periodic - 1``."""

    def __init__(self, table: tuple[Channel, ...]) -> None:
        self.table = table
        self.index = {c.key: i for i, c in enumerate(table)}
        self.periodic = sum(1 for c in table if c.periodic)

    def __getitem__(self, key: str) -> int:
        return self.index[key]

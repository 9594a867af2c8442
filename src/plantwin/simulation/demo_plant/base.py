"""Shared pieces of the line model: parts, the step context, output, and failure handling.

Every model keeps its mutable state in a plain ``*State`` dataclass, so the whole plant is
one tree of such objects that :mod:`codec` can snapshot; the model classes hold only
settings, references and precomputed constants. What all models of one run share (step
context, output, ground truth, channel columns, random generators) travels as one
:class:`Env`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from plantwin.simulation.demo_plant.channels import ChannelIndex
from plantwin.simulation.demo_plant.rand import lognormal_mean, weibull_mean
from plantwin.simulation.demo_plant.settings import (
    FailureSettings,
    MaintenanceSettings,
    SiteSettings,
)
from plantwin.simulation.demo_plant.truth import Failure, GroundTruth, Maintenance

# State codes of the plant file (machines; conveyors use 0, 1, 3; the compressor 0, 1, 3, 4, 5).
IDLE, RUNNING, SETUP, DOWN, MAINT, OFF = 0, 1, 2, 3, 4, 5
N_STATES = 6
S_PER_H = 3600.0
NS_PER_S = 1_000_000_000


@dataclass(slots=True, kw_only=True)
class Part:
    id: int
    due: int = 0  # step at which it reaches the end of the conveyor it is on
    width: float = 0.0  # true slot width after milling, mm
    diameter: float = 0.0  # true turned diameter, mm
    mill_wear: float = 0.0
    lathe_wear: float = 0.0
    defect: str = ""


@dataclass(slots=True, kw_only=True)
class Ctx:
    """Plant-wide values of the current step."""

    step: int = 0
    start_ns: int
    ambient: float = 22.0
    day: float = 0.0  # 0 at night, 1 mid-shift
    air_ok: bool = True
    next_part: int = 1

    def ns(self) -> int:
        return self.ns_at(self.step)

    def ns_at(self, step: int) -> int:
        """UTC time of ``step``, integer nanoseconds."""
        return self.start_ns + step * NS_PER_S


@dataclass(slots=True, kw_only=True)
class EmitState:
    last: list[float]  # last value of each event channel
    last_step: list[int]  # step of its last emission


class Emitter:
    """Output of the steps since the last flush: one periodic row per step, events as lists."""

    def __init__(self, state: EmitState, periodic: int) -> None:
        self.state = state
        self.row = [0.0] * periodic
        self.step = 0
        self.ev_step: list[int] = []
        self.ev_ch: list[int] = []
        self.ev_val: list[float] = []
        self._slot: dict[int, int] = {}  # channel -> index of its event in the current step
        self._slot_step = -1

    def event(self, ch: int, value: float) -> None:
        """Emit ``value`` on ``ch`` at this step; a second value in the same step replaces
        the first (a state held for zero seconds, or a buffer filled in one step, is never
        reported: one reading per channel and timestamp)."""
        if self._slot_step != self.step:
            self._slot.clear()
            self._slot_step = self.step
        at = self._slot.get(ch)
        if at is None:
            self._slot[ch] = len(self.ev_val)
            self.ev_step.append(self.step)
            self.ev_ch.append(ch)
            self.ev_val.append(value)
        else:
            self.ev_val[at] = value
        self.state.last[ch] = value
        self.state.last_step[ch] = self.step

    def preset(self, ch: int, value: float) -> None:
        """Set the last value of ``ch`` without an event; the next heartbeat sends it."""
        self.state.last[ch] = value

    def heartbeat(self, channels: list[int]) -> None:
        last, last_step = self.state.last, self.state.last_step
        for ch in channels:
            if last_step[ch] != self.step:
                self.event(ch, last[ch])

    def clear(self) -> None:
        self.ev_step.clear()
        self.ev_ch.clear()
        self.ev_val.clear()
        self._slot.clear()
        self._slot_step = -1


@dataclass(slots=True, kw_only=True)
class AssetState:
    state: int = IDLE
    ttf: float  # operating seconds to the next random failure
    cause: str = ""
    random_failure: bool = True
    repair_left: float = 0.0
    repaired: bool = False
    down_since: int = 0
    pm_next: int = -1  # step of the next planned maintenance; -1: none
    pm_since: int = 0
    pm_left: float = 0.0
    air: float = 0.0  # compressed-air demand, m3/min FAD
    power: float = 0.0  # true input power, kW
    tally: list[int] = field(default_factory=lambda: [0] * N_STATES)


@dataclass(frozen=True, slots=True, kw_only=True)
class Env:
    """What every model of one run shares; built by the line each time it binds a state."""

    ctx: Ctx
    em: Emitter
    truth: GroundTruth
    idx: ChannelIndex
    rngs: Mapping[str, np.random.Generator]  # one stream per asset (``rand.ASSET_STREAMS``)
    site: SiteSettings
    auto_reset: bool  # a repaired asset returns to service without an operator reset


class Reliability(Protocol):
    """Settings of anything that fails at random."""

    @property
    def failures(self) -> FailureSettings: ...


class Asset:
    """Failure, repair and planned-maintenance behaviour shared by every asset.

    Subclasses narrow ``x`` (their state) and ``s`` (their settings) by annotation.
    """

    x: AssetState
    s: Reliability

    def __init__(
        self,
        *,
        name: str,
        x: AssetState,
        env: Env,
        settings: Reliability,
        maintenance: MaintenanceSettings | None = None,
    ) -> None:
        self.name = name
        self.x = x
        self.s = settings
        self.env = env
        # shortcuts for the per-step code
        self.rng = env.rngs[name]
        self.ctx = env.ctx
        self.em = env.em
        self.truth = env.truth
        self.row = env.em.row
        self.maintenance = maintenance
        self.ch_state = self.chan("state")
        env.truth.state_s[name] = x.tally

    def chan(self, key: str) -> int:
        """Column of this asset's channel ``key``, e.g. ``"spindle/speed"``."""
        return self.env.idx[f"{self.name}/{key}"]

    def chans(self, *keys: str) -> list[int]:
        return [self.chan(key) for key in keys]

    @staticmethod
    def first_ttf(rng: np.random.Generator, failures: FailureSettings) -> float:
        return weibull_mean(rng, failures.mtbf_h * S_PER_H, failures.shape)

    @staticmethod
    def first_pm(maintenance: MaintenanceSettings | None) -> int:
        return -1 if maintenance is None else round(maintenance.first_h * S_PER_H)

    def announce(self) -> None:
        """Preset the heartbeat values of a fresh asset (sent at the first step)."""
        self.em.preset(self.ch_state, float(self.x.state))

    def set_state(self, code: int) -> None:
        if self.x.state != code:
            self.x.state = code
            self.em.event(self.ch_state, float(code))

    # ---------------------------------------------------------------- failures
    def operate(self) -> bool:
        """Count one operating second; True if a random failure happens now."""
        x = self.x
        x.ttf -= 1.0
        if x.ttf > 0.0:
            return False
        failures = self.s.failures
        cause = failures.causes[int(self.rng.integers(len(failures.causes)))]
        repair = lognormal_mean(self.rng, failures.mttr_h * S_PER_H, failures.repair_sigma)
        self.fail(cause, repair, random_failure=True)
        return True

    def fail(self, cause: str, repair_s: float, *, random_failure: bool) -> None:
        x = self.x
        x.cause = cause
        x.random_failure = random_failure
        x.repair_left = repair_s
        x.repaired = False
        x.down_since = self.ctx.step
        self.set_state(DOWN)

    def tick_down(self) -> None:
        x = self.x
        if not x.repaired:
            x.repair_left -= 1.0
            if x.repair_left <= 0.0:
                x.repaired = True
                self.on_repaired()
        if x.repaired and self.env.auto_reset:
            self.restore()

    def reset_fault(self) -> tuple[bool, str]:
        """Operator reset: back to service if down and repaired; (accepted, why not)."""
        x = self.x
        if x.state != DOWN:
            return False, "not down"
        if not x.repaired:
            return False, "repair not finished"
        self.restore()
        return True, ""

    def restore(self) -> None:
        x = self.x
        ctx = self.ctx
        self.truth.failures.append(
            Failure(
                asset=self.name,
                cause=x.cause,
                start_ns=ctx.ns_at(x.down_since),
                end_ns=ctx.ns(),
            )
        )
        if x.random_failure:
            x.ttf = self.first_ttf(self.rng, self.s.failures)
        self.on_restored(ctx.step - x.down_since)
        self.set_state(self.resume_state())

    def on_repaired(self) -> None:
        """Hook: the repair work is done (e.g. a new bearing is in)."""

    def on_restored(self, down_steps: int) -> None:
        """Hook: the asset is back in service after ``down_steps``."""

    def resume_state(self) -> int:
        return IDLE

    # ---------------------------------------------------------------- planned maintenance
    def pm_due(self) -> bool:
        pm_next = self.x.pm_next
        return pm_next >= 0 and self.ctx.step >= pm_next

    def start_pm(self) -> None:
        assert self.maintenance is not None
        x = self.x
        x.pm_since = self.ctx.step
        x.pm_left = self.maintenance.duration_h * S_PER_H
        self.set_state(MAINT)

    def tick_pm(self) -> None:
        x = self.x
        x.pm_left -= 1.0
        if x.pm_left > 0.0:
            return
        assert self.maintenance is not None
        ctx = self.ctx
        self.truth.maintenance.append(
            Maintenance(asset=self.name, start_ns=ctx.ns_at(x.pm_since), end_ns=ctx.ns())
        )
        interval = round(self.maintenance.interval_h * S_PER_H)
        while x.pm_next <= ctx.step:
            x.pm_next += interval
        self.set_state(self.resume_state())

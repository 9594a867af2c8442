"""Conveyor buffers between stations, and the raw-part supply at the infeed."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from plantwin.simulation.demo_plant.base import DOWN, IDLE, RUNNING, Asset, AssetState, Env, Part
from plantwin.simulation.demo_plant.rand import lognormal_mean
from plantwin.simulation.demo_plant.settings import ConveyorSettings, SupplySettings


@dataclass(slots=True, kw_only=True)
class ConveyorState(AssetState):
    transit: list[Part] = field(default_factory=list)  # moving, in order of arrival
    ready: list[Part] = field(default_factory=list)  # accumulated at the end


class Conveyor(Asset):
    """Accumulating roller conveyor: parts travel ``travel_s`` and queue at the end.

    The motor runs (state running) while a part is moving; the random-failure clock counts
    running time. A down conveyor takes and releases nothing; moving parts stop with it.
    """

    x: ConveyorState
    s: ConveyorSettings

    def __init__(
        self, *, name: str, x: ConveyorState, env: Env, settings: ConveyorSettings
    ) -> None:
        super().__init__(name=name, x=x, env=env, settings=settings)
        self.ch_level, self.ch_current, self.ch_power = self.chans(
            "level", "motor_current", "power"
        )
        active = env.site.line_amps(settings.power_kw)
        self.moving_amps = math.hypot(settings.current_mag_a, active)

    @staticmethod
    def new_state(rng: np.random.Generator, settings: ConveyorSettings) -> ConveyorState:
        return ConveyorState(ttf=Asset.first_ttf(rng, settings.failures))

    def announce(self) -> None:
        super().announce()
        self.em.preset(self.ch_level, float(self.level))

    @property
    def level(self) -> int:
        return len(self.x.transit) + len(self.x.ready)

    def has_room(self) -> bool:
        return self.x.state != DOWN and self.level < self.s.capacity

    def accept(self, part: Part) -> bool:
        if not self.has_room():
            return False
        part.due = self.ctx.step + self.s.travel_s
        self.x.transit.append(part)
        self.em.event(self.ch_level, float(self.level))
        return True

    def take(self) -> Part | None:
        x = self.x
        if x.state == DOWN or not x.ready:
            return None
        part = x.ready.pop(0)
        self.em.event(self.ch_level, float(self.level))
        return part

    def step(self) -> None:
        x = self.x
        if x.state == DOWN:
            self.tick_down()
        elif not (x.transit and self.operate()):
            step = self.ctx.step
            while x.transit and x.transit[0].due <= step:
                x.ready.append(x.transit.pop(0))
            self.set_state(RUNNING if x.transit else IDLE)
        moving = x.state == RUNNING
        x.power = self.s.power_kw if moving else 0.0
        row = self.row
        row[self.ch_power] = x.power
        row[self.ch_current] = self.moving_amps if moving else 0.0
        x.tally[x.state] += 1

    def on_restored(self, down_steps: int) -> None:
        for part in self.x.transit:
            part.due += down_steps

    def resume_state(self) -> int:
        return RUNNING if self.x.transit else IDLE


@dataclass(slots=True, kw_only=True)
class SupplyState:
    due: int = -1  # step of the next delivery; -1: none ordered


class Supply:
    """Raw parts are brought to the infeed conveyor when it runs low (random stream "supply")."""

    def __init__(
        self, *, x: SupplyState, env: Env, settings: SupplySettings, infeed: Conveyor
    ) -> None:
        self.x = x
        self.rng = env.rngs["supply"]
        self.ctx = env.ctx
        self.s = settings
        self.infeed = infeed

    def fill(self) -> None:
        """Fill the infeed at the start (parts waiting at its end)."""
        infeed = self.infeed
        while infeed.level < infeed.s.capacity:
            infeed.x.ready.append(Part(id=self.ctx.next_part))
            self.ctx.next_part += 1

    def step(self) -> None:
        x = self.x
        ctx = self.ctx
        if x.due < 0:
            if self.infeed.level <= self.s.refill_level:
                delay = lognormal_mean(self.rng, self.s.delay_min * 60.0, self.s.delay_sigma)
                x.due = ctx.step + max(1, round(delay))
        elif ctx.step >= x.due:
            while self.infeed.has_room():
                self.infeed.accept(Part(id=ctx.next_part))
                ctx.next_part += 1
            x.due = -1

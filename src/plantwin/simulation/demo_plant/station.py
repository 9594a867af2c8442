"""A machine that takes parts from one conveyor, works on them and passes them on.

A cycle is load -> process -> unload. A starved machine (nothing upstream, no air) or a
blocked one (finished part, no room downstream) is idle. Random failures count operating
time (running and setup, ISO 22400 TBF) and strike while running; a down machine keeps
its part and resumes the cycle after the repair. Planned maintenance is taken at the
first idle moment after it falls due.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from plantwin.simulation.demo_plant.base import (
    DOWN,
    IDLE,
    MAINT,
    RUNNING,
    SETUP,
    Asset,
    AssetState,
    Env,
    Part,
    Reliability,
)
from plantwin.simulation.demo_plant.conveyor import Conveyor
from plantwin.simulation.demo_plant.settings import MaintenanceSettings

LOAD, PROCESS, UNLOAD = 0, 1, 2


@dataclass(slots=True, kw_only=True)
class StationState(AssetState):
    phase: int = LOAD
    left: float = 0.0  # seconds (work units while processing) left in the phase or setup
    work: float = 0.0  # process work of the current part, nominal seconds
    part: Part | None = None  # in the machine
    held: Part | None = None  # finished, waiting for room downstream
    cycle_start: int = 0
    setup_since: int = 0
    count: int = 0


class StationSettings(Reliability, Protocol):
    """What every station's settings give: handling times, failures, planned maintenance."""

    @property
    def load_s(self) -> float: ...

    @property
    def unload_s(self) -> float: ...

    @property
    def maintenance(self) -> MaintenanceSettings: ...


class Station(Asset):
    """Generic station between two conveyors; subclasses add the physics through the hooks.

    ``downstream`` None: the finished part leaves the line.
    """

    x: StationState
    s: StationSettings

    def __init__(
        self,
        *,
        name: str,
        x: StationState,
        env: Env,
        settings: StationSettings,
        upstream: Conveyor,
        downstream: Conveyor | None = None,
    ) -> None:
        super().__init__(
            name=name, x=x, env=env, settings=settings, maintenance=settings.maintenance
        )
        self.upstream = upstream
        self.downstream = downstream
        self.ch_count = env.idx.index.get(f"{name}/part_count")
        self.ch_cycle = env.idx.index.get(f"{name}/cycle_time")

    def announce(self) -> None:
        super().announce()
        if self.ch_count is not None:
            self.em.preset(self.ch_count, float(self.x.count))

    # ---------------------------------------------------------------- hooks
    def new_work(self) -> float:
        """Process work of the next part, in nominal seconds."""
        raise NotImplementedError

    def rate(self) -> float:
        """Work done per second while processing (feed and speed overrides)."""
        return 1.0

    def can_start(self) -> bool:
        return self.ctx.air_ok

    def on_start(self) -> None:
        """A new cycle begins."""

    def finish(self, part: Part) -> None:
        """The part is done (set its dimensions, count it)."""

    def setup_due(self) -> bool:
        return False

    def setup_seconds(self) -> float:
        return 0.0

    def finish_setup(self) -> None:
        """The setup (tool change) is done."""

    def physics(self) -> None:
        """Continuous values of this step: power, temperatures, air; writes the row."""

    # ---------------------------------------------------------------- state machine
    def step(self) -> None:
        x = self.x
        state = x.state
        if state == RUNNING:
            self._run()
        elif state == IDLE:
            self._idle()
        elif state == SETUP:
            self._setup()
        elif state == DOWN:
            self.tick_down()
        elif state == MAINT:
            self.tick_pm()
        self.physics()
        x.tally[x.state] += 1

    def resume_state(self) -> int:
        return RUNNING if self.x.part is not None else IDLE

    def on_restored(self, down_steps: int) -> None:
        # like a CNC's cycle timer, the reported cycle time leaves out the time down
        self.x.cycle_start += down_steps

    def _run(self) -> None:
        x = self.x
        if self.operate():
            return
        x.left -= self.rate() if x.phase == PROCESS else 1.0
        while x.left <= 0.0:
            if x.phase == LOAD:
                x.phase = PROCESS
                x.left += x.work
            elif x.phase == PROCESS:
                x.phase = UNLOAD
                x.left += self.s.unload_s
            else:
                self._complete()
                return

    def _complete(self) -> None:
        x = self.x
        part = x.part
        assert part is not None
        x.part = None
        self.finish(part)
        x.count += 1
        if self.ch_count is not None:
            self.em.event(self.ch_count, float(x.count))
        if self.ch_cycle is not None:
            self.em.event(self.ch_cycle, float(self.ctx.step - x.cycle_start))
        x.held = part
        self.set_state(IDLE)
        self._idle()

    def _push(self, part: Part) -> bool:
        if self.downstream is None:
            return True  # leaves the line
        return self.downstream.accept(part)

    def _idle(self) -> None:
        x = self.x
        if x.held is not None and self._push(x.held):
            x.held = None
        if self.pm_due():
            self.start_pm()
            return
        if self.setup_due():
            x.left = self.setup_seconds()
            x.setup_since = self.ctx.step
            self.set_state(SETUP)
            return
        if x.held is None and self.can_start():
            part = self.upstream.take()
            if part is None:
                return
            x.part = part
            x.phase = LOAD
            x.left = self.s.load_s
            x.work = self.new_work()
            x.cycle_start = self.ctx.step
            self.on_start()
            self.set_state(RUNNING)

    def _setup(self) -> None:
        x = self.x
        x.ttf -= 1.0  # setup is operating time; a failure due now strikes once running
        x.left -= 1.0
        if x.left <= 0.0:
            self.finish_setup()
            self.set_state(IDLE)
            self._idle()

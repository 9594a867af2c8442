"""The demo line as a synchronous, deterministic simulator: step physics, emit readings.

``DemoLine`` advances in fixed one-second steps. Same seed, settings, plant and start time
give identical readings however the run is cut into ``advance`` calls, and a snapshot taken
between calls continues identically after ``restore``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from plantwin.core.errors import ConnectorError
from plantwin.core.samples import RawBatch
from plantwin.model.plant import Plant
from plantwin.simulation.demo_plant import codec
from plantwin.simulation.demo_plant.base import (
    NS_PER_S,
    Asset,
    Ctx,
    EmitState,
    Emitter,
    Env,
    Part,
)
from plantwin.simulation.demo_plant.channels import ChannelIndex, build_table
from plantwin.simulation.demo_plant.cnc import BearingState, Cnc, CncState, ToolState
from plantwin.simulation.demo_plant.commands import CommandTarget, command_targets
from plantwin.simulation.demo_plant.conveyor import Conveyor, ConveyorState, Supply, SupplyState
from plantwin.simulation.demo_plant.emission import EmissionPlan
from plantwin.simulation.demo_plant.finishing import Cmm, CmmState, Washer, WasherState
from plantwin.simulation.demo_plant.rand import NoiseBlocks, asset_generators
from plantwin.simulation.demo_plant.settings import CONVEYOR_ASSETS, DemoSettings
from plantwin.simulation.demo_plant.truth import (
    BearingLife,
    CommandLog,
    Failure,
    GroundTruth,
    Inspection,
    Maintenance,
    ToolChange,
)
from plantwin.simulation.demo_plant.utilities import (
    Compressor,
    CompressorState,
    LocalTime,
    site_power,
    site_zone,
    weather,
)

SNAPSHOT_FORMAT = "plantwin-demo-line/1"


@dataclass(slots=True, kw_only=True)
class PendingCommand:
    address: str
    value: float  # parameter unit, checked


@dataclass(slots=True, kw_only=True)
class SimState:
    """Everything that changes while the line runs; what a snapshot holds."""

    ctx: Ctx
    emit: EmitState
    energy: list[float]  # kWh totals of the energy channels
    rng: dict[str, Any]  # bit-generator states, filled when a snapshot is taken
    supply: SupplyState
    conveyors: dict[str, ConveyorState]
    mill: CncState
    lathe: CncState
    washer: WasherState
    cmm: CmmState
    compressor: CompressorState
    truth: GroundTruth
    pending: list[PendingCommand]  # written, applied at the start of the next step


STATE_CLASSES: list[type] = [
    SimState,
    PendingCommand,
    Ctx,
    EmitState,
    SupplyState,
    ConveyorState,
    CncState,
    BearingState,
    ToolState,
    WasherState,
    CmmState,
    CompressorState,
    Part,
    GroundTruth,
    Failure,
    BearingLife,
    ToolChange,
    Inspection,
    Maintenance,
    CommandLog,
]


class DemoLine:
    """The machining line of the example plant file, simulated one second at a time.

    Args:
        plant: the plant model; its bindings for ``source`` decide addresses, rates, units.
        seed: seeds every random draw.
        settings: physics and reliability settings (defaults: :class:`DemoSettings`).
        start_ns: simulated UTC time of step 0, integer nanoseconds.
        source: connector name in the plant file, also the readings' source.
    """

    def __init__(
        self,
        *,
        plant: Plant,
        seed: int = 7,
        settings: DemoSettings | None = None,
        start_ns: int,
        source: str = "demo",
    ) -> None:
        self.settings = settings if settings is not None else DemoSettings()
        self.seed = seed
        self.source = source
        self._idx = ChannelIndex(build_table())
        self._plan = EmissionPlan(plant=plant, connector=source, idx=self._idx)
        self._commands = command_targets(plant, source)
        self._local = LocalTime(site_zone(plant, source))
        self._rngs = asset_generators(seed)
        table = self._idx.table
        periodic = table[: self._idx.periodic]
        self._noise = NoiseBlocks(seed=seed, width=len(periodic), block=self.settings.noise_block)
        self._noise_abs = np.array([c.noise_abs for c in periodic])
        self._noise_rel = np.array([c.noise_rel for c in periodic])
        self._nonneg = np.array([i for i, c in enumerate(periodic) if c.nonneg], np.intp)
        self._energy = [
            (self._idx[c.key], self._idx[c.integral_of]) for c in periodic if c.integral_of
        ]
        self._heartbeat = [i for i, c in enumerate(table) if c.heartbeat]
        self._meter = self._idx["meter1/power"]
        self._fingerprint = hashlib.sha256(repr(self.settings).encode()).hexdigest()[:16]
        self._bind(self._fresh(start_ns), fresh=True)
        self._target_ns = start_ns

    # ---------------------------------------------------------------- public API
    @property
    def addresses(self) -> list[str]:
        """Every address this line emits (the plant's bindings for this connector)."""
        return list(self._plan.addresses)

    @property
    def command_addresses(self) -> list[str]:
        return sorted(self._commands)

    @property
    def now_ns(self) -> int:
        return self._state.ctx.ns()

    @property
    def truth(self) -> GroundTruth:
        return self._state.truth

    def advance(self, seconds: float) -> RawBatch:
        """Run ``seconds`` more (fractions carry over to the next call); the readings."""
        self._target_ns = max(self._target_ns, self.now_ns) + round(seconds * NS_PER_S)
        return self.advance_to(self._target_ns)

    def advance_to(self, ts_ns: int) -> RawBatch:
        """Run every whole step up to ``ts_ns``; the readings of those steps."""
        n = max(0, (ts_ns - self.now_ns) // NS_PER_S)
        first = self._state.ctx.step + 1
        rows: list[list[float]] = []
        step = self._step
        row = self._em.row
        for _ in range(n):
            step()
            rows.append(row.copy())
        return self._flush(first, rows)

    def run(self, seconds: float, *, chunk_s: int = 3600) -> Iterator[RawBatch]:
        """Offline history as fast as possible, in batches of ``chunk_s`` simulated seconds."""
        end = self.now_ns + round(seconds * NS_PER_S)
        while self.now_ns + NS_PER_S <= end:
            yield self.advance_to(min(end, self.now_ns + chunk_s * NS_PER_S))
        self._target_ns = max(self._target_ns, end)

    def write(self, address: str, value: float) -> None:
        """Take a command written to ``address`` in its source unit; it acts at the next step.

        Unknown addresses and values outside the plant file's limits raise ConnectorError
        at once; whether the machine accepts it (a reset of a machine still under repair is
        refused) is logged in ``truth.commands`` when it is applied.
        """
        target = self._commands.get(address)
        if target is None:
            known = ", ".join(sorted(self._commands)) or "none"
            msg = f"demo connector has no command at address {address!r} (commands: {known})"
            raise ConnectorError(msg)
        self._state.pending.append(PendingCommand(address=address, value=target.value(value)))

    def snapshot(self, *, include_truth: bool = True) -> bytes:
        """The simulator state (RNG states included) as bytes for :meth:`restore`.

        Nothing in the simulation reads the ground truth, so a snapshot taken with
        ``include_truth=False`` continues identically; its ``truth`` starts with empty
        record lists and keeps only the per-state seconds (``state_s``).
        """
        st = self._state
        st.rng = {name: g.bit_generator.state for name, g in self._rngs.items()}
        if not include_truth:
            st = replace(st, truth=GroundTruth(state_s=st.truth.state_s))
        header: dict[str, object] = {
            "format": SNAPSHOT_FORMAT,
            "seed": self.seed,
            "settings": self._fingerprint,
        }
        return codec.dumps(header, st)

    def restore(self, data: bytes) -> None:
        """Continue from a snapshot taken by a line with the same seed and settings."""
        header, state = codec.loads(data, STATE_CLASSES, SimState)
        problems = []
        if header.get("format") != SNAPSHOT_FORMAT:
            problems.append(f"format {header.get('format')!r}, expected {SNAPSHOT_FORMAT!r}")
        if header.get("seed") != self.seed:
            problems.append(f"seed {header.get('seed')!r}, this line has {self.seed}")
        if header.get("settings") != self._fingerprint:
            problems.append("it was taken with different DemoSettings")
        if len(state.emit.last) != len(self._idx.table) or set(state.rng) != set(self._rngs):
            problems.append("it was taken by another version of the demo plant")
        if problems:
            msg = "cannot restore the demo line from this snapshot: " + "; ".join(problems)
            raise ValueError(msg)
        for name, gen in self._rngs.items():
            gen.bit_generator.state = state.rng[name]
        self._bind(state, fresh=False)
        self._target_ns = self.now_ns

    # ---------------------------------------------------------------- construction
    def _fresh(self, start_ns: int) -> SimState:
        s, r = self.settings, self._rngs
        ctx = Ctx(start_ns=start_ns)
        weather(ctx, s.site, self._local)
        n = len(self._idx.table)
        return SimState(
            ctx=ctx,
            emit=EmitState(last=[0.0] * n, last_step=[-1] * n),
            energy=[0.0] * len(self._energy),
            rng={},
            supply=SupplyState(),
            conveyors={a: Conveyor.new_state(r[a], s.conveyor) for a in CONVEYOR_ASSETS},
            mill=Cnc.new_state(r["mill1"], s.mill, ctx.ambient),
            lathe=Cnc.new_state(r["lathe1"], s.lathe, ctx.ambient),
            washer=Washer.new_state(r["washer1"], s.washer),
            cmm=Cmm.new_state(r["cmm1"], s.cmm),
            compressor=Compressor.new_state(r["compressor1"], s.compressor, ctx.ambient),
            truth=GroundTruth(),
            pending=[],
        )

    def _bind(self, st: SimState, *, fresh: bool) -> None:
        s = self.settings
        em = Emitter(st.emit, self._idx.periodic)
        env = Env(
            ctx=st.ctx, em=em, truth=st.truth, idx=self._idx, rngs=self._rngs, site=s.site,
            auto_reset=s.auto_reset,
        )  # fmt: skip
        conv = {
            a: Conveyor(name=a, x=st.conveyors[a], env=env, settings=s.conveyor)
            for a in CONVEYOR_ASSETS
        }
        mill = Cnc(
            name="mill1", x=st.mill, env=env, settings=s.mill, upstream=conv["buf_in"],
            downstream=conv["buf_ml"], dimension="width",
        )  # fmt: skip
        lathe = Cnc(
            name="lathe1", x=st.lathe, env=env, settings=s.lathe, upstream=conv["buf_ml"],
            downstream=conv["buf_lw"], dimension="diameter",
        )  # fmt: skip
        washer = Washer(
            name="washer1", x=st.washer, env=env, settings=s.washer, upstream=conv["buf_lw"],
            downstream=conv["buf_wc"],
        )  # fmt: skip
        cmm = Cmm(
            name="cmm1", x=st.cmm, env=env, settings=s.cmm, upstream=conv["buf_wc"],
            diameter=s.lathe.quality, width=s.mill.quality,
        )  # fmt: skip
        self._compressor = Compressor(
            name="compressor1", x=st.compressor, env=env, settings=s.compressor
        )
        self._supply = Supply(x=st.supply, env=env, settings=s.supply, infeed=conv["buf_in"])
        self._state, self._em, self._ctx = st, em, st.ctx
        self._stations = (mill, lathe, washer, cmm)
        self._conveyors = tuple(conv.values())
        self._assets: dict[str, Asset] = {
            a.name: a for a in (*self._stations, *self._conveyors, self._compressor)
        }
        self._mill, self._lathe = mill, lathe
        # downstream first, so a part moves at most one station per step
        self._flow: list[Callable[[], None]] = [
            cmm.step, conv["buf_wc"].step, washer.step, conv["buf_lw"].step,
            lathe.step, conv["buf_ml"].step, mill.step, conv["buf_in"].step,
            self._supply.step,
        ]  # fmt: skip
        if fresh:
            for asset in self._assets.values():
                asset.announce()
            self._supply.fill()
            conv["buf_in"].announce()

    # ---------------------------------------------------------------- stepping
    def _step(self) -> None:
        ctx, em = self._ctx, self._em
        ctx.step += 1
        em.step = ctx.step
        weather(ctx, self.settings.site, self._local)
        if self._state.pending:
            self._apply_commands()
        for fn in self._flow:
            fn()
        mill, lathe, washer, cmm = self._stations
        self._compressor.step(mill.x.air + lathe.x.air + washer.x.air + cmm.x.air)
        total = mill.x.power + lathe.x.power + washer.x.power + cmm.x.power
        for conv in self._conveyors:
            total += conv.x.power
        total += self._compressor.x.power
        em.row[self._meter] = site_power(ctx, self.settings.site, total)
        abs_s = ctx.start_ns // NS_PER_S + ctx.step
        if ctx.step == 1 or abs_s % self.settings.heartbeat_s == 0:
            em.heartbeat(self._heartbeat)

    def _flush(self, first: int, rows: list[list[float]]) -> RawBatch:
        em = self._em
        if rows:
            values = np.array(rows, dtype=np.float64)
            noise = self._noise.rows(first, first + len(rows))
            values += noise * (self._noise_abs + self._noise_rel * np.abs(values))
            nonneg = self._nonneg
            values[:, nonneg] = np.maximum(values[:, nonneg], 0.0)
            energy = self._state.energy
            for k, (e_col, p_col) in enumerate(self._energy):
                # strictly sequential sum, so chunking never changes the last bit
                steps = np.concatenate(([energy[k]], values[:, p_col] / 3600.0))
                values[:, e_col] = np.cumsum(steps)[1:]
                energy[k] = float(values[-1, e_col])
        else:
            values = np.empty((0, self._idx.periodic))
        batch = self._plan.batch(
            source=self.source,
            start_ns=self._ctx.start_ns,
            first_step=first,
            values=values,
            ev_step=em.ev_step,
            ev_ch=em.ev_ch,
            ev_val=em.ev_val,
        )
        em.clear()
        return batch

    # ---------------------------------------------------------------- commands
    def _apply_commands(self) -> None:
        st = self._state
        for cmd in st.pending:
            accepted, note = self._execute(self._commands[cmd.address], cmd.value)
            st.truth.commands.append(
                CommandLog(
                    ts_ns=self.now_ns,
                    address=cmd.address,
                    value=cmd.value,
                    accepted=accepted,
                    note=note,
                )
            )
        st.pending.clear()

    def _execute(self, target: CommandTarget, value: float) -> tuple[bool, str]:
        asset = self._assets[target.asset]
        if target.command == "reset_fault":
            return asset.reset_fault()
        if target.command == "set_pressure":
            self._compressor.set_pressure(value)
            return True, ""
        cnc = self._mill if target.asset == "mill1" else self._lathe
        if target.command == "set_feed_override":
            cnc.set_feed(value)
        else:
            cnc.set_speed(value)
        return True, ""

"""CommandService on its own: restart closes unfinished commands, audit stays complete."""

from __future__ import annotations

import pytest

from plantwin.core import ManualClock, RawBatch
from plantwin.core.records import CommandEvent, CommandStatus
from plantwin.core.store import RecordQuery
from plantwin.ingest import Ingestor
from plantwin.model.catalog import SignalCatalog
from plantwin.model.loader import parse_plant
from plantwin.model.plant import Plant
from plantwin.processing.commands import CommandRejectedError, CommandService, NotAllowedError
from plantwin.processing.commands.checks import check_interlocks
from plantwin.simulation.demo_plant.connector import DemoPlant
from plantwin.store import MemoryStore
from plantwin.twin import TwinState
from tests.helpers import T0


async def test_a_restart_closes_unfinished_commands_and_keeps_the_others(
    example_plant: Plant,
) -> None:
    async with MemoryStore() as store:
        catalog = SignalCatalog(
            example_plant, await store.register_signals(list(example_plant.signals))
        )
        clock = ManualClock(T0)
        twin = TwinState(example_plant, catalog)
        raw = RawBatch.of("demo", ["L1/mill1/state"], [T0], [1.0])
        twin.apply(Ingestor(catalog, clock).process(raw).batch)
        demo = DemoPlant(plant=example_plant, clock=clock, seed=7, start_ns=T0)

        def service() -> CommandService:
            return CommandService(
                plant=example_plant,
                twin=twin,
                catalog=catalog,
                store=store,
                clock=clock,
                writers={"demo": demo},
            )

        first = service()
        pending = await first.request(
            twin="changwon.compressor1",
            command="set_pressure",
            parameters={"pressure": 6.6},
            user="kim",
        )
        sent = await first.request(
            twin="changwon.L1.mill1",
            command="set_feed_override",
            parameters={"percent": 105},
            user="kim",
        )
        assert (pending.status, sent.status) == (CommandStatus.PENDING_APPROVAL, CommandStatus.SENT)
        await first.close()  # the runtime stops before the mill reported or anyone approved

        second = service()
        await second.restore()
        assert second.commands[pending.id].status is CommandStatus.REJECTED
        assert second.commands[pending.id].events[-1].message == (
            "the runtime restarted before approval"
        )
        assert second.commands[sent.id].status is CommandStatus.TIMED_OUT
        assert second.commands[sent.id].target == 105.0
        events = await store.records(RecordQuery(kind=CommandEvent))
        assert len(events) == 5  # pending; accepted, sent; and the two closing events

        third = service()  # a second restart finds nothing left to close
        await third.restore()
        assert len(await store.records(RecordQuery(kind=CommandEvent))) == 5
        assert [c.status for c in third.commands.values()] == [
            CommandStatus.REJECTED,
            CommandStatus.TIMED_OUT,
        ]


async def test_an_interlock_without_a_value_blocks_and_a_false_one_passes(
    example_plant: Plant,
) -> None:
    async with MemoryStore() as store:
        ids = await store.register_signals(list(example_plant.signals))
    catalog = SignalCatalog(example_plant, ids)
    twin = TwinState(example_plant, catalog)
    (spec,) = [c for c in example_plant.twins["changwon.L1.lathe1"].commands if c.interlocks]
    with pytest.raises(
        NotAllowedError, match=r"no value of changwon\.L1\.lathe1\.spindle/speed yet"
    ):
        check_interlocks(spec, twin, catalog)
    ingest = Ingestor(catalog, ManualClock(T0))
    stopped = RawBatch.of("demo", ["L1/lathe1/spindle/speed"], [T0], [0.0])
    twin.apply(ingest.process(stopped).batch)
    check_interlocks(spec, twin, catalog)  # the spindle stands still: nothing blocks


PRESS = """\
plantwin: 1
name: press
connectors: {plc: {kind: opcua, endpoint: "opc.tcp://127.0.0.1:9"}}
types:
  press:
    states: {values: {idle: 0, running: 1}}
    signals: {force: {unit: kN}}
    commands:
      set_force:
        critical: true
        allowed_states: [idle]
        params: {force: {type: float, unit: kN, min: 0, max: 500}}
        binding: {connector: plc, address: "{asset}/force_sp"}
    bindings: {"*": {connector: plc, address: "{asset}/{signal}"}}
sites: {s: {assets: {p1: {type: press}}}}
"""


async def test_approval_checks_the_state_again() -> None:
    plant = parse_plant(PRESS, "press.yaml")
    async with MemoryStore() as store:
        catalog = SignalCatalog(plant, await store.register_signals(list(plant.signals)))
        clock = ManualClock(T0)
        twin = TwinState(plant, catalog)
        ingest = Ingestor(catalog, clock)

        def state(code: float, at: int) -> None:
            twin.apply(ingest.process(RawBatch.of("plc", ["p1/state"], [at], [code])).batch)

        state(0, T0)
        service = CommandService(
            plant=plant, twin=twin, catalog=catalog, store=store, clock=clock, writers={}
        )
        cmd = await service.request(
            twin="s.p1", command="set_force", parameters={"force": 120}, user="kim"
        )
        assert cmd.status is CommandStatus.PENDING_APPROVAL
        state(1, T0 + 1)  # the press started while the command waited
        with pytest.raises(CommandRejectedError, match=r"allowed only in idle; s\.p1 is running"):
            await service.approve(cmd.id, user="lee")
        last = cmd.events[-1]  # mypy narrowed cmd.status above
        assert (last.status, last.user, last.previous) == (
            CommandStatus.REJECTED,
            "lee",
            CommandStatus.PENDING_APPROVAL,
        )

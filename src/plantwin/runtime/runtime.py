"""The composition root: settings -> store, twin, connectors, pipeline, API server.

Only this package names concrete implementations (DuckDB, the memory bus, the demo plant);
everything it builds is handed to the rest of plantwin as protocols.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import socket
import time
from collections.abc import Iterator, Mapping
from contextlib import AsyncExitStack
from dataclasses import asdict, replace
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import uvicorn

from plantwin.analytics.registry import ModelRegistry
from plantwin.api.app import create_app
from plantwin.api.context import ApiContext
from plantwin.api.live import LiveHub
from plantwin.bus.memory import MemoryBus
from plantwin.connectors.http import HttpConnector
from plantwin.core.bus import Topic
from plantwin.core.clock import NS_PER_S, Clock, ScaledClock, WallClock, iso
from plantwin.core.connector import Connector, ConnectorHealth, ConnectorStatus, Inlet
from plantwin.core.errors import AccountError, ConnectorError, PlantwinError, StoreError
from plantwin.core.records import AlarmEvent, DeadLetter, Event, EventKind, StateChange
from plantwin.core.store import RecordQuery, Store
from plantwin.ingest import Ingestor
from plantwin.model.catalog import SignalCatalog
from plantwin.model.loader import load_plant
from plantwin.model.plant import Plant
from plantwin.processing.accounts import Accounts
from plantwin.processing.commands import CommandService
from plantwin.processing.kpis import KpiEngine, KpiService
from plantwin.processing.processor import RuleProcessor
from plantwin.reports import ReportError, ReportFormat
from plantwin.reports.schedule import write_due_reports
from plantwin.runtime import connectors as connector_factories
from plantwin.runtime.health import health_stage
from plantwin.runtime.model_updates import ModelWatcher
from plantwin.runtime.notifications import Notifier
from plantwin.runtime.pipeline import Pipeline
from plantwin.runtime.predictions import chain, prediction_stage
from plantwin.runtime.rul import rul_stage
from plantwin.runtime.settings import Settings
from plantwin.simulation.demo_plant.connector import DemoPlant
from plantwin.simulation.demo_plant.opcua_server import (
    CARRIED_VALUES_PER_S,
    DEMO_NAMESPACE,
    READINGS_PER_PLANT_S,
    DemoOpcUaServer,
)
from plantwin.simulation.fmu.cosim import CoSimulator
from plantwin.store.duckdb_store import DuckDBStore
from plantwin.store.spool import SampleSpool
from plantwin.store.sql_sandbox import SqlSandbox
from plantwin.twin import TwinState

log = logging.getLogger(__name__)

SNAPSHOT_KEY = "demo.snapshot"
DRAIN_TIMEOUT_S = 15.0  # at stop, how long the OPC UA demo may take to deliver what it wrote


class StartupError(PlantwinError):
    """The runtime cannot start (port in use, store locked, ...); the message says why."""


class _Server(uvicorn.Server):
    """uvicorn without its own signal handlers: the runtime owns SIGINT/SIGTERM."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


class Runtime:
    """A running twin: ``async with Runtime(settings) as rt: await rt.serve(duration)``."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.plant: Plant = load_plant(settings.plant)
        self._stack = AsyncExitStack()
        self.started_wall = time.time()
        self.skipped: dict[str, str] = {}  # connector -> why it is not running
        self.notices: list[str] = []  # things the operator should know at start
        self.inlets: dict[str, Inlet] = {}  # http connectors, fed by POST /api/v1/ingest
        self.stop = asyncio.Event()
        self._drained = asyncio.Event()  # the pipeline stops when this is set
        self._final_snapshot = True

    async def __aenter__(self) -> Self:
        try:
            await self._open()
        except BaseException:
            await self._stack.aclose()
            raise
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self._stack.aclose()

    async def _open(self) -> None:
        settings = self.settings
        duckdb_store = await self._stack.enter_async_context(
            DuckDBStore(
                path=settings.store,
                flush_interval=settings.flush_interval,
                spool=_spool(settings),
            )
        )
        self.store: Store = duckdb_store
        ids = await self.store.register_signals(list(self.plant.signals))
        self.catalog = SignalCatalog(self.plant, ids)
        self.twin = TwinState(self.plant, self.catalog)
        latest = await self.store.latest()
        self.twin.restore(latest, await self._last_states())
        newest = int(latest.ts.max()) if len(latest.ts) else 0
        self.clock: Clock = WallClock()
        self.connectors: list[Connector] = []
        self.demo: DemoPlant | None = None
        self.demo_server: DemoOpcUaServer | None = None
        if settings.demo:
            self.demo, self.clock = await self._demo(newest)
            if settings.in_process:
                self.connectors.append(self.demo)
            else:
                needed = settings.speed * READINGS_PER_PLANT_S
                if needed > CARRIED_VALUES_PER_S:
                    self.notices.append(
                        f"--speed {settings.speed:g} needs about {needed:,.0f} OPC UA values/s; "
                        f"one process carries about {CARRIED_VALUES_PER_S:,}/s, so the data will "
                        "lag the plant clock (nothing is lost); --in-process keeps up"
                    )
                self.demo_server = await self._stack.enter_async_context(
                    DemoOpcUaServer(demo=self.demo, plant=self.plant, port=settings.opcua_port)
                )
                self.connectors.append(
                    connector_factories.demo_over_opcua(
                        self.plant,
                        self.demo.name,
                        self.demo_server.endpoint,
                        DEMO_NAMESPACE,
                        self.clock,
                    )
                )
        self._build_connectors()
        for connector in self.connectors:
            await self._stack.enter_async_context(connector)
        self.inlets = {c.name: c for c in self.connectors if isinstance(c, HttpConnector)}
        self.bus = await self._stack.enter_async_context(MemoryBus())
        self.ingestor = Ingestor(self.catalog, self.clock)
        self.rules = RuleProcessor(self.twin, self.catalog, start_ns=self.clock.now_ns())
        alarm_log = await self.store.records(RecordQuery(kind=AlarmEvent, limit=1_000_000))
        self.rules.restore([r for r in alarm_log if isinstance(r, AlarmEvent)])
        self.notifier = (
            Notifier(list(self.plant.notifications.values()), self.store_dead_letter)
            if self.plant.notifications
            else None
        )
        self.kpis = KpiService(KpiEngine(self.plant, self.catalog, self.store))
        self.accounts = Accounts(self.store)
        try:
            startup = await self.accounts.bootstrap_admin(settings.admin_token)
        except AccountError as err:
            raise StartupError(str(err)) from err
        self.admin_token = startup.secret  # the CLI prints it once; it is stored only hashed
        self.admin_token_generated = settings.admin_token is None
        self.commands = CommandService(
            plant=self.plant,
            twin=self.twin,
            catalog=self.catalog,
            store=self.store,
            clock=self.clock,
            writers={c.name: c for c in self.connectors},
        )
        await self.commands.restore()
        self._stack.push_async_callback(self.commands.close)
        # Prediction stages take newer model versions while running (model_updates.py).
        self.models = ModelWatcher(ModelRegistry(self.store), [])
        self.pipeline = Pipeline(
            ingestor=self.ingestor,
            twin=self.twin,
            store=self.store,
            bus=self.bus,
            connectors=self.connectors,
            processor=self.rules,
            clock=self.clock,
            model=self._cosimulator(),
            health=chain(
                await health_stage(self.catalog, self.store, newest),
                await prediction_stage(self.catalog, self.store, self.models),
                await rul_stage(self.catalog, self.store, newest, self.models),
            ),
        )
        self.live = LiveHub(self.catalog)
        self.commands.listeners.append(self.live.publish)
        self.app = create_app(
            ApiContext(
                plant=self.plant,
                catalog=self.catalog,
                twin=self.twin,
                store=self.store,
                clock=self.clock,
                health=self.health,
                accounts=self.accounts,
                rules=self.rules,
                connectors=self.connector_health,
                not_running=self.skipped,
                inlets=self.inlets,
                screen=self.ingestor.screen,
                commands=self.commands,
                live=self.live,
                sql=SqlSandbox(duckdb_store.sql_connection, self.plant),
            )
        )

    def _cosimulator(self) -> CoSimulator | None:
        """The plant's FMUs, stepped in the twin stage; closed with the runtime."""
        if not self.plant.fmus:
            return None
        cosim = CoSimulator.for_plant(self.catalog)
        self._stack.callback(cosim.close)
        return cosim

    def _build_connectors(self) -> None:
        """The declared connectors this run starts; the others go to ``skipped`` with why."""
        settings = self.settings
        only = settings.only_connectors
        unknown = sorted((only or set()) - set(self.plant.connectors))
        if unknown:
            msg = f"the plant file declares no connector {', '.join(unknown)}"
            raise StartupError(msg)
        for name, declared in self.plant.connectors.items():
            if only is not None and name not in only:
                self.skipped[name] = "not selected for this run"
                continue
            overrides = settings.connector_options.get(name)
            if overrides:
                declared = replace(declared, options={**declared.options, **overrides})  # noqa: PLW2901
            if declared.kind == "demo":
                if not settings.demo:
                    self.skipped[name] = "demo connectors run only under 'plantwin demo'"
                continue
            connector = connector_factories.build(self.plant, declared, self.clock)
            if connector is None:
                self.skipped[name] = f"connector kind '{declared.kind}' is not available yet"
            else:
                self.connectors.append(connector)

    async def _demo(self, newest: int) -> tuple[DemoPlant, ScaledClock]:
        """The simulator and its plant clock, resumed from the stored snapshot if usable."""
        start = max(time.time_ns(), newest + NS_PER_S) // NS_PER_S * NS_PER_S
        clock = ScaledClock(start_ns=start, speed=self.settings.speed)
        demo = DemoPlant(plant=self.plant, clock=clock, seed=self.settings.seed, start_ns=start)
        snapshot = await self.store.get_meta(SNAPSHOT_KEY)
        if snapshot is not None:
            try:
                demo.restore(snapshot)
            except ConnectorError as err:
                # Another seed, other settings or an older simulator: start a fresh line after
                # the stored history rather than refuse to start.
                self.notices.append(f"demo snapshot not resumed ({err}); the line starts afresh")
                log.warning("demo snapshot not resumed: %s", err)
            else:
                # Resume where the snapshot was taken: readings between it and the crash are
                # produced again and dropped by the store as duplicates.
                clock.rebase(demo.line.now_ns)
        return demo, clock

    async def _last_states(self) -> list[StateChange]:
        out: list[StateChange] = []
        for twin in self.plant.twins.values():
            if twin.states is None:
                continue
            query = RecordQuery(kind=StateChange, twin=twin.id, exact=True, limit=1)
            out.extend(r for r in await self.store.records(query) if isinstance(r, StateChange))
        return out

    async def store_dead_letter(self, letter: DeadLetter) -> None:
        await self.store.append_records([letter])

    def connector_health(self) -> list[ConnectorHealth]:
        """Each running connector's own report; a connector whose readings raised is failed."""
        out: list[ConnectorHealth] = []
        for connector in self.connectors:
            health = connector.health()
            error = self.pipeline.connector_errors.get(connector.name)
            if error is not None:
                health = replace(health, status=ConnectorStatus.FAILED, last_error=error)
            out.append(health)
        return out

    def health(self) -> Mapping[str, Any]:
        connectors = self.connector_health()
        errors = dict(self.pipeline.connector_errors)
        status = (
            "degraded"
            if errors or any(c.status is ConnectorStatus.FAILED for c in connectors)
            else "ok"
        )
        return {
            "status": status,
            "plant_time": iso(self.clock.now_ns()),
            "speed": self.settings.speed if self.demo is not None else 1.0,
            "uptime_s": round(time.time() - self.started_wall, 1),
            "store": {"path": self.settings.store, **asdict(self.store.stats())},
            "pipeline": asdict(self.pipeline.stats),
            "ingest": asdict(self.ingestor.stats),
            "twin": {
                "derived_non_finite": self.twin.derived.non_finite,
                "derived_late_skipped": self.twin.derived.late_skipped,
                "unknown_state_codes": self.twin.states.unknown_count,
                "recent_unknown_state_codes": [asdict(u) for u in self.twin.states.unknown],
            },
            "rules": {
                "rules": len(self.rules.engine.rules),
                "alarms": len(self.rules.board.points),
                "evaluations": self.rules.engine.evaluations,
                "visible_alarms": dict(self.rules.board.counts()),
                "flood": sorted(self.rules.board.flood_since),
            },
            "notifications": (
                {k: asdict(v) for k, v in self.notifier.stats().items()} if self.notifier else {}
            ),
            "connectors": [
                {
                    **asdict(c),
                    "status": c.status.value,
                    "detail": dict(c.detail),
                    "error": errors.get(c.name),
                }
                for c in connectors
            ],
            "not_running": self.skipped,
            "demo_server": None if self.demo_server is None else asdict(self.demo_server.stats()),
        }

    async def serve(self, duration: float | None = None) -> None:
        """Run pipeline and API until ``duration`` wall seconds pass, SIGINT/SIGTERM, or stop."""
        sock = self._bind()
        server = _Server(
            uvicorn.Config(self.app, log_level="warning", lifespan="off", access_log=False)
        )
        await self._lifecycle("started")
        alarms_sub = self.bus.subscribe(Topic.RECORDS, maxsize=4096) if self.notifier else None
        live_subs = [self.bus.subscribe(t, maxsize=4096) for t in Topic]  # read at once, never full
        try:
            with self._signals():
                async with asyncio.TaskGroup() as group:
                    pipeline = group.create_task(self.pipeline.run(self._drained))
                    if self.notifier is not None and alarms_sub is not None:
                        group.create_task(self.notifier.run(alarms_sub))
                    group.create_task(self.live.run(live_subs))
                    web = group.create_task(server.serve(sockets=[sock]))
                    if self.demo is not None:
                        group.create_task(self._snapshots())
                    self._model_tasks(group)
                    if self.demo_server is not None:
                        group.create_task(self._publish_when_subscribed(self.demo_server))
                    if self.settings.retention_days is not None:
                        group.create_task(self._retention(self.settings.retention_days))
                    if self.kpis.engine.scopes():
                        group.create_task(self._kpi_job())
                        if self.settings.reports_dir is not None:
                            group.create_task(self._report_job(self.settings.reports_dir))
                    if duration is not None:
                        group.create_task(self._stop_after(duration))
                    await self.stop.wait()
                    await self._quiesce_demo_server()
                    self.live.close()  # live clients are told the server stops
                    server.should_exit = True
                    await web
                    await self._close_inlets()  # what the API accepted reaches the pipeline
                    self._drained.set()
                    await pipeline
                    if alarms_sub is not None:
                        await alarms_sub.close()  # the notifier delivers what it holds, then ends
                    for sub in live_subs:
                        await sub.close()
        finally:
            sock.close()
        if self.demo is not None and self._final_snapshot:
            # The pipeline has drained and the simulator is stopped: everything it produced
            # is stored, so the line's state now is a safe place to resume from.
            await self.store.put_meta(SNAPSHOT_KEY, self.demo.snapshot(include_truth=False))
        await self._lifecycle("stopped")
        await self.store.flush()

    async def run_to_end(self) -> None:
        """Run the pipeline without the API until every connector's readings end (a replayed
        file is done), or SIGINT/SIGTERM or ``stop``; then drain and flush."""
        pipeline_stop = asyncio.Event()
        await self._lifecycle("started")
        with self._signals():
            async with asyncio.TaskGroup() as group:
                group.create_task(self.pipeline.run(pipeline_stop))
                ended = group.create_task(self.pipeline.sources_ended.wait())
                stopped = group.create_task(self.stop.wait())
                await asyncio.wait({ended, stopped}, return_when=asyncio.FIRST_COMPLETED)
                ended.cancel()
                stopped.cancel()
                pipeline_stop.set()
        await self._lifecycle("stopped")
        await self.store.flush()

    @contextlib.contextmanager
    def _signals(self) -> Iterator[None]:
        """SIGINT and SIGTERM set ``stop`` (a clean stop) while inside."""
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(sig, self.stop.set)
        try:
            yield
        finally:
            for sig in (signal.SIGINT, signal.SIGTERM):
                with contextlib.suppress(NotImplementedError, RuntimeError):
                    loop.remove_signal_handler(sig)

    async def _close_inlets(self, timeout_s: float = 30.0) -> None:
        for name, inlet in self.inlets.items():
            try:
                await asyncio.wait_for(inlet.close_intake(), timeout_s)
            except TimeoutError:
                log.error("connector %s: queued readings not taken within %s s", name, timeout_s)

    async def _lifecycle(self, what: str) -> None:
        root = self.plant.roots()[0].id
        event = Event(ts=self.clock.now_ns(), twin=root, kind=EventKind.LIFECYCLE, message=what)
        await self.store.append_records([event])

    def _bind(self) -> socket.socket:
        host, port = self.settings.host, self.settings.port
        # proto=IPPROTO_TCP: asyncio sets TCP_NODELAY only on such sockets; without it each
        # response on a kept-alive connection waited ~40 ms (Nagle meeting delayed ACKs).
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as err:
            sock.close()
            msg = f"cannot listen on {host}:{port}: {err.strerror}; choose another with --port"
            raise StartupError(msg) from err
        sock.listen(128)
        sock.setblocking(False)
        return sock

    async def _publish_when_subscribed(self, server: DemoOpcUaServer) -> None:
        """Start the simulator once the demo connector has subscribed to its nodes.

        Values a server writes while no subscription watches a node are not queued for anyone
        (a later subscription gets only the newest), so starting earlier would leave gaps.
        """
        client = next(c for c in self.connectors if c.name == server.demo.name)
        while client.health().status is not ConnectorStatus.CONNECTED:  # noqa: ASYNC110 - health is polled
            await asyncio.sleep(0.05)
        server.start_publishing()

    async def _quiesce_demo_server(self) -> None:
        """Stop the OPC UA demo's simulator and wait until what it wrote is stored.

        Then the final snapshot is safe; if delivery takes too long, no final snapshot is
        saved and a restart resumes from the last periodic one (replays are duplicates).
        """
        if self.demo_server is None:
            return
        through = await self.demo_server.quiesce()
        if self.demo_server.stats().published == 0:
            return  # the simulator never ran: its state is the one it started from
        try:
            await asyncio.wait_for(self.pipeline.settle(through), DRAIN_TIMEOUT_S)
        except TimeoutError:
            self._final_snapshot = False
            log.warning("OPC UA demo did not deliver its last readings; no final snapshot")

    async def _stop_after(self, duration: float) -> None:
        await asyncio.sleep(duration)
        self.stop.set()

    async def _snapshots(self) -> None:
        """Save the simulator's state, but only once what it had produced is committed.

        A snapshot taken at plant time T is saved after the pipeline has committed every
        reading the simulator produced up to T and everything computed from them (derived
        samples, state changes).
        A restart from it therefore never skips readings that were not committed; those after
        T are produced again and the store drops the ones it already has.
        """
        assert self.demo is not None
        period = self.settings.snapshot_every
        while not self.stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.stop.wait(), period)
            if self.stop.is_set():
                return
            # Readings up to this time exist (some may still be on their way to the store).
            produced = self.demo.last_reading_ns
            snapshot = self.demo.snapshot(include_truth=False)
            try:
                await asyncio.wait_for(self.pipeline.settle(produced), timeout=4 * period)
            except TimeoutError:
                log.warning("pipeline is behind; demo snapshot postponed")
                continue
            await self.store.put_meta(SNAPSHOT_KEY, snapshot)

    def _model_tasks(self, group: asyncio.TaskGroup) -> None:
        """Newer model versions reach the stages; the demo trains the models it lacks."""
        if self.models.users:
            group.create_task(self.models.run(self.stop, self.settings.model_check_every))
        if self.demo is not None and self.settings.train_models:
            group.create_task(self._train_demo_models())

    async def _train_demo_models(self) -> None:
        """Train the demo's models the store lacks, in a background process (demo_models.py)."""
        from plantwin.runtime.demo_models import train_missing  # noqa: PLC0415

        try:
            await train_missing(self.plant, self.models, self.stop, seed=self.settings.seed)
        except Exception:  # the live demo goes on without the models
            log.exception("training the demo's models failed")

    async def _retention(self, days: float) -> None:
        while not self.stop.is_set():
            cutoff = self.clock.now_ns() - int(days * 86_400 * NS_PER_S)
            counts = await self.store.prune(older_than=cutoff)
            if any(counts.values()):
                log.info("retention removed %s", counts)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.stop.wait(), self.settings.retention_every)

    async def _kpi_job(self) -> None:
        """Compute the KPIs of closed shifts and production days once and store them.

        It first waits one round, so that starting the twin is not slowed by it.
        """
        lookback = self.settings.kpi_lookback_days * 86_400
        while not self.stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.stop.wait(), self.settings.kpi_every)
            if self.stop.is_set():
                return
            try:
                written = await self.kpis.close_periods(self.clock.now_ns(), lookback)
            except StoreError as err:  # the store is unwell: try again next round
                log.warning("storing KPIs of closed periods failed: %s", err)
            else:
                if written:
                    log.info("stored KPIs of %d closed periods", written)

    async def _report_job(self, folder: Path) -> None:
        """Write the report of each closed shift and production day of the lines, once."""
        fmt = ReportFormat(self.settings.report_format)
        lookback = self.settings.kpi_lookback_days * 86_400
        while not self.stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.stop.wait(), self.settings.kpi_every)
            if self.stop.is_set():
                return
            try:
                await write_due_reports(
                    self.plant,
                    self.catalog,
                    self.store,
                    folder,
                    now=self.clock.now_ns(),
                    lookback_s=lookback,
                    fmt=fmt,
                )
            except (StoreError, ReportError, OSError) as err:  # try again next round
                log.warning("writing scheduled reports to %s failed: %s", folder, err)


def _spool(settings: Settings) -> SampleSpool | None:
    """The store-and-forward spool beside the store file (none for a throwaway store)."""
    if settings.store == ":memory:" and settings.spool_dir is None:
        return None
    where = settings.spool_dir or f"{settings.store}.spool"
    return SampleSpool(where, max_bytes=settings.spool_max_bytes)

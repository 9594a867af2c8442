"""The demo line as a real OPC UA server (asyncua), the way a plant's machines are reached.

Address space (namespace ``urn:plantwin:demo-plant``)::

    Objects/changwon/L1/mill1/power                 ns=<demo>;s=L1/mill1/power
    Objects/changwon/L1/mill1/spindle/vibration     ns=<demo>;s=L1/mill1/spindle/vibration
    Objects/changwon/L1/washer1/tank_temp_x10       ns=<demo>;s=L1/washer1/tank_temp_x10
    Objects/changwon/compressor1/pressure_psi       ns=<demo>;s=changwon/compressor1/pressure_psi
    Objects/changwon/L1/mill1/Commands/set_feed_override
                                      ns=<demo>;s=L1/mill1/cmd/set_feed_override

Folders follow the twin tree; each variable's string node id is the address of its binding to
the plant file's ``demo`` connector, so the plant file's addresses are the node ids. Values are
Doubles in the binding's source unit (``EngineeringUnits`` says which), stamped with simulated
plant time as source and server timestamp. Writing a command node hands the value to the
simulator (``DemoPlant.write``); a value outside the command's limits is refused with
BadOutOfRange and the node keeps its old value.

Publishing is lossless while a client keeps up: every simulated reading is written to its node
in time order, and before each batch the server waits until the largest monitored-item queue
of any subscription is below ``max_backlog``, so a slow client slows the simulation instead of
losing values. Readings are written only after :meth:`start_publishing` (call it once the
client has subscribed: values written before that are not queued for anyone).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import Self

from asyncua import ua
from asyncua.common.node import Node
from asyncua.server.address_space import NodeData
from asyncua.server.server import Server
from asyncua.ua.attribute_ids import AttributeIds
from asyncua.ua.status_codes import StatusCodes
from asyncua.ua.uaerrors import UaStatusCodeError

from plantwin.core.errors import ConnectorError
from plantwin.core.samples import RawBatch
from plantwin.model.plant import BindingDef, Plant
from plantwin.simulation.demo_plant.connector import DemoPlant

log = logging.getLogger(__name__)

DEMO_NAMESPACE = "urn:plantwin:demo-plant"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_YIELD_EVERY = 2000  # values written between two chances for the event loop to publish
# What one process carries: `python -m bench opcua` measured 9,000-20,000 values/s server ->
# client on one core (2026-11-27), and the demo line makes ~29 readings per simulated second.
CARRIED_VALUES_PER_S = 10_000
READINGS_PER_PLANT_S = 29


@dataclass(frozen=True, slots=True, kw_only=True)
class ServerStats:
    endpoint: str
    published: int  # values written to nodes
    published_through: int  # plant time (ns) of the newest value written
    backlog: int  # longest monitored-item queue now
    waits: int  # times the simulator waited for a slow client


class DemoOpcUaServer:
    """``async with DemoOpcUaServer(demo=..., plant=..., port=4840) as server: ...``."""

    def __init__(
        self,
        *,
        demo: DemoPlant,
        plant: Plant,
        port: int = 4840,
        host: str = "127.0.0.1",
        max_backlog: int = 2000,
    ) -> None:
        self.demo = demo
        self.endpoint = f"opc.tcp://{host}:{port}"
        self._host, self._port = host, port
        self._bindings = [b for b in plant.bindings if b.connector == demo.name]
        self._plant = plant
        self._max_backlog = max_backlog
        self._server = Server()
        self._nodes: dict[str, ua.NodeId] = {}
        self._enabled = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._holding = False  # a batch was taken from the simulator and is being written
        self._stopping = False
        self._published = 0
        self._through = demo.last_reading_ns
        self._waits = 0

    # ------------------------------------------------------------------ lifecycle
    async def __aenter__(self) -> Self:
        server = self._server
        await server.init()
        server.set_endpoint(self.endpoint)
        server.set_server_name("plantwin demo plant")
        server.set_security_policy([ua.SecurityPolicyType.NoSecurity])
        server.set_identity_tokens([ua.AnonymousIdentityToken])  # a local demo: no users
        ns = await server.register_namespace(DEMO_NAMESPACE)
        await self._address_space(ns)
        try:
            _check_free(self._host, self._port)  # asyncua logs a traceback for a taken port
            await server.start()
        except OSError as err:
            msg = (
                f"cannot listen on {self._host}:{self._port} for the demo OPC UA server: "
                f"{err.strerror}; choose another with --opcua-port"
            )
            raise ConnectorError(msg) from err
        await self.demo.__aenter__()
        self._task = asyncio.create_task(self._publish(), name="demo opcua publisher")
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self.demo.__aexit__(None, None, None)
        with contextlib.suppress(Exception):
            await self._server.stop()

    def start_publishing(self) -> None:
        self._enabled.set()

    async def quiesce(self) -> int:
        """Stop the simulator after the batch being written, if any; plant time written through.

        Once this returns nothing new is produced, and everything the simulator handed out
        up to the returned time is in the server's queues.
        """
        self._stopping = True
        task = self._task
        if task is not None:
            if not self._holding:
                task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        return self._through

    def stats(self) -> ServerStats:
        return ServerStats(
            endpoint=self.endpoint,
            published=self._published,
            published_through=self._through,
            backlog=self._backlog(),
            waits=self._waits,
        )

    # ------------------------------------------------------------------ address space
    async def _address_space(self, ns: int) -> None:
        objects = self._server.nodes.objects
        folders: dict[str, Node] = {}

        async def folder(twin_id: str, extra: str | None = None) -> Node:
            key = twin_id if extra is None else f"{twin_id}.{extra}"
            if key in folders:
                return folders[key]
            if extra is not None:
                parent = await folder(twin_id)
                name = extra
            else:
                parent_id, _, name = twin_id.rpartition(".")
                parent = await folder(parent_id) if parent_id else objects
            node = await parent.add_folder(_node_id(key, ns), ua.QualifiedName(name, ns))
            folders[key] = node
            return node

        for binding in self._bindings:
            if "#" in binding.signal:
                twin_id, command = binding.signal.split("#", 1)
                parent = await folder(twin_id, "Commands")
                node = await self._variable(parent, binding, command, ns)
                await node.set_writable()
                self._server.set_attribute_value_setter(node.nodeid, self._setter(binding))
            else:
                twin_id = binding.signal.rsplit("/", 1)[0]
                parent = await folder(twin_id)
                name = binding.address.rsplit("/", 1)[-1]
                node = await self._variable(parent, binding, name, ns)
            self._nodes[binding.address] = node.nodeid

    async def _variable(self, parent: Node, binding: BindingDef, name: str, ns: int) -> Node:
        node = await parent.add_variable(
            _node_id(binding.address, ns), ua.QualifiedName(name, ns), 0.0, ua.VariantType.Double
        )
        signal = self._plant.signals.get(binding.signal)
        units = ua.EUInformation(
            NamespaceUri="http://www.opcfoundation.org/UA/units/un/cefact",
            UnitId=-1,
            DisplayName=ua.LocalizedText(binding.source_unit),
            Description=ua.LocalizedText(signal.description if signal else binding.signal),
        )
        await node.add_property(0, "EngineeringUnits", ua.Variant(units))
        plain = binding.a == 1.0 and binding.b == 0.0
        if signal is not None and plain and signal.low is not None and signal.high is not None:
            await node.add_property(0, "EURange", ua.Variant(ua.Range(signal.low, signal.high)))
        waiting = ua.DataValue(
            StatusCode=ua.StatusCode(ua.UInt32(StatusCodes.BadWaitingForInitialData))
        )
        await self._server.write_attribute_value(node.nodeid, waiting)
        return node

    def _setter(
        self, binding: BindingDef
    ) -> Callable[[NodeData, AttributeIds, ua.DataValue], None]:
        address = binding.address

        def setter(node: NodeData, attr: AttributeIds, value: ua.DataValue) -> None:
            raw = value.Value.Value if value.Value is not None else None
            if isinstance(raw, bool) or not isinstance(raw, int | float):
                raise UaStatusCodeError(StatusCodes.BadTypeMismatch)  # type: ignore[no-untyped-call]
            try:
                self.demo.line.write(address, float(raw))  # acts at the next step
            except ConnectorError as err:
                log.warning("demo OPC UA server refused a write: %s", err)
                raise UaStatusCodeError(StatusCodes.BadOutOfRange) from err  # type: ignore[no-untyped-call]
            stamp = _datetime(self.demo.line.now_ns)
            node.attributes[attr].value = ua.DataValue(
                value.Value, SourceTimestamp=stamp, ServerTimestamp=stamp
            )

        return setter

    # ------------------------------------------------------------------ publishing
    async def _publish(self) -> None:
        await self._enabled.wait()
        async for item in self.demo.readings():
            if not isinstance(item, RawBatch):
                continue
            self._holding = True
            try:
                await self._room()
                await self._write(item)
            finally:
                self._holding = False
            if self._stopping:
                return

    async def _room(self) -> None:
        """Wait while a client is behind: the simulation slows instead of values being lost."""
        waited = False
        while self._backlog() > self._max_backlog:
            waited = True
            await asyncio.sleep(0.02)
        self._waits += waited

    def _backlog(self) -> int:
        # asyncua has no public figure for this; the subscriptions' pending notifications
        # per monitored item are what a queue overflow would discard.
        subs = self._server.iserver.subscription_service.subscriptions.values()
        return max(
            (len(q) for sub in subs for q in sub._triggered_datachanges.values()),
            default=0,
        )

    async def _write(self, batch: RawBatch) -> None:
        nodes = self._nodes
        write = self._server.write_attribute_value
        double = ua.VariantType.Double
        since, previous = 0, -1
        stamp = _datetime(0)
        for address, ts, value in zip(
            batch.address, batch.ts.tolist(), batch.value.tolist(), strict=True
        ):
            if ts != previous:
                # Let the loop publish only between steps, so a notification message never
                # holds part of one simulated second (checkpoints rely on whole steps).
                if since >= _YIELD_EVERY:
                    await asyncio.sleep(0)
                    since = 0
                stamp, previous = _datetime(ts), ts
            dv = ua.DataValue(
                ua.Variant(value, double), SourceTimestamp=stamp, ServerTimestamp=stamp
            )
            await write(nodes[address], dv)
            since += 1
        self._published += len(batch)
        if len(batch):
            self._through = int(batch.ts[-1])


def _datetime(ns: int) -> ua.DateTime:
    """OPC UA timestamp of plant time ``ns`` (asyncua carries microseconds)."""
    # asyncua annotates timestamps with its datetime subclass but encodes any aware datetime
    return _EPOCH + timedelta(microseconds=ns // 1000)  # type: ignore[return-value]


def _check_free(host: str, port: int) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))


def _node_id(identifier: str, ns: int) -> ua.NodeId:
    return ua.NodeId(ua.String(identifier), ua.Int16(ns))

"""A real asyncua server on a free loopback port, and helpers to drive its variables."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import Self

from asyncua import ua
from asyncua.server.server import Server
from asyncua.server.user_managers import UserManager
from asyncua.ua.attribute_ids import AttributeIds
from asyncua.ua.status_codes import StatusCodes

from plantwin.model.plant import BindingDef

NAMESPACE = "urn:plantwin:test"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def stamp(ns: int) -> datetime:
    return EPOCH + timedelta(microseconds=ns // 1000)


def binding(address: str, signal: str, connector: str = "plc") -> BindingDef:
    return BindingDef(
        connector=connector,
        address=address,
        signal=signal,
        scale=1.0,
        offset=0.0,
        source_unit="",
        a=1.0,
        b=0.0,
    )


class TestServer:
    """``async with TestServer(port, ["m/a", "m/b"]) as srv: await srv.write("m/a", 1.0, ts)``.

    Variables are Doubles named ``ns=<test>;s=<name>`` under Objects/m, and start with
    BadWaitingForInitialData, as a PLC that has not read its inputs yet.
    """

    __test__ = False  # not a pytest class

    def __init__(
        self,
        port: int,
        names: Sequence[str],
        *,
        writable: Sequence[str] = (),
        user_manager: UserManager | None = None,
        initial: tuple[float, int] | None = None,
        certificate: tuple[Path, Path] | None = None,
    ) -> None:
        self.endpoint = f"opc.tcp://127.0.0.1:{port}"
        self.server = Server(user_manager=user_manager)
        self.names = list(names)
        self.writable = list(writable)
        self.nodes: dict[str, ua.NodeId] = {}
        self.ns = 0
        self.initial = initial  # (value, ts) of every read variable instead of "waiting"
        self.certificate = certificate  # (cert, key): only Basic256Sha256 SignAndEncrypt

    async def __aenter__(self) -> Self:
        server = self.server
        await server.init()
        server.set_endpoint(self.endpoint)
        if self.certificate is None:
            server.set_security_policy([ua.SecurityPolicyType.NoSecurity])
        else:
            await server.load_certificate(self.certificate[0])
            await server.load_private_key(self.certificate[1])
            server.set_security_policy([ua.SecurityPolicyType.Basic256Sha256_SignAndEncrypt])
        self.ns = await server.register_namespace(NAMESPACE)
        folder = await server.nodes.objects.add_folder(
            ua.NodeId(ua.String("m"), ua.Int16(self.ns)), ua.QualifiedName("m", self.ns)
        )
        for name in [*self.names, *self.writable]:
            node = await folder.add_variable(
                ua.NodeId(ua.String(name), ua.Int16(self.ns)),
                ua.QualifiedName(name.rsplit("/", 1)[-1], self.ns),
                0.0,
                ua.VariantType.Double,
            )
            self.nodes[name] = node.nodeid
            if name in self.writable:
                await node.set_writable()
            elif self.initial is not None:
                value, ts = self.initial
                when = stamp(ts)
                dv = ua.DataValue(ua.Variant(value, ua.VariantType.Double), SourceTimestamp=when)  # type: ignore[arg-type]
                await server.write_attribute_value(node.nodeid, dv)
            else:
                waiting = ua.StatusCode(ua.UInt32(StatusCodes.BadWaitingForInitialData))
                await server.write_attribute_value(node.nodeid, ua.DataValue(StatusCode=waiting))
        await server.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.server.stop()

    async def write(self, name: str, value: float, ts_ns: int, status: int = 0) -> None:
        """Set a value with its source timestamp, as the device would."""
        when = stamp(ts_ns)
        dv = ua.DataValue(
            ua.Variant(value, ua.VariantType.Double),
            StatusCode=ua.StatusCode(ua.UInt32(status)),
            SourceTimestamp=when,  # type: ignore[arg-type]
            ServerTimestamp=when,  # type: ignore[arg-type]
        )
        if status >> 30 >= 2:
            await self._write_bad_with_value(name, dv)
        else:
            await self.server.write_attribute_value(self.nodes[name], dv)

    async def _write_bad_with_value(self, name: str, dv: ua.DataValue) -> None:
        # asyncua blanks the value of a Bad write (as OPC UA Part 4 asks of servers); many
        # PLC servers send the last value with the Bad status instead. This puts such a
        # value on the wire through the same data-change callbacks a write uses.
        node = self.server.iserver.aspace._nodes[self.nodes[name]]
        attribute = node.attributes[AttributeIds.Value]
        attribute.value = dv
        for handle, callback in list(attribute.datachange_callbacks.items()):
            await callback(handle, dv)

    async def read(self, name: str) -> object:
        return self.server.read_attribute_value(self.nodes[name]).Value.Value  # type: ignore[union-attr]

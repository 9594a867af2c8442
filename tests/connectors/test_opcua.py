"""The OPC UA connector against a real asyncua server on loopback."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable, Mapping

import pytest
from asyncua.crypto.permission_rules import User, UserRole
from asyncua.server.internal_server import InternalServer
from asyncua.ua import UserNameIdentityToken
from asyncua.ua.status_codes import StatusCodes

from plantwin.connectors.opcua import OpcUaConnector, parse_options
from plantwin.core.clock import NS_PER_S, WallClock
from plantwin.core.connector import ConnectorStatus
from plantwin.core.errors import ConnectorError
from plantwin.core.records import DeadLetter
from plantwin.core.samples import Quality, RawBatch
from tests.connectors.opcua_support import NAMESPACE, TestServer, binding
from tests.runtime.demo_process import free_port

pytestmark = [
    pytest.mark.integration,
    pytest.mark.slow,
]  # an asyncua server takes ~3 s to start and stop

T = (time.time_ns() // NS_PER_S - 3600) * NS_PER_S  # an hour ago, whole seconds
Row = tuple[str, int, float, int]


def connector(
    endpoint: str,
    *names: str,
    commands: tuple[str, ...] = (),
    extra: Mapping[str, object] | None = None,
) -> OpcUaConnector:
    options: dict[str, object] = {
        "endpoint": endpoint,
        "namespace": NAMESPACE,
        "publishing_interval": "50 ms",
        "reconnect_initial": "100 ms",
        "reconnect_max": "500 ms",
    }
    options |= dict(extra or {})
    bindings = [binding(n, f"m/{n.replace('/', '_')}") for n in names]
    bindings += [binding(c, f"m#{c.replace('/', '_')}") for c in commands]
    return OpcUaConnector(
        name="plc", options=parse_options("plc", options), bindings=bindings, clock=WallClock()
    )


async def until(predicate: Callable[[], bool], what: str, limit_s: float = 20.0) -> None:
    deadline = time.monotonic() + limit_s
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


class Collector:
    """Reads a connector in the background and keeps what arrived, in arrival order."""

    def __init__(self, conn: OpcUaConnector) -> None:
        self.batches: list[RawBatch] = []
        self.dead: list[DeadLetter] = []
        self._task = asyncio.create_task(self._run(conn.readings()))

    async def _run(self, readings: AsyncIterator[RawBatch | DeadLetter]) -> None:
        async for item in readings:
            if isinstance(item, RawBatch):
                self.batches.append(item)
            else:
                self.dead.append(item)

    def rows(self) -> list[Row]:
        return [
            (a, int(t), float(v), int(s))
            for b in self.batches
            for a, t, v, s in zip(b.address, b.ts, b.value, b.status, strict=True)
        ]

    async def close(self) -> None:
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task


async def connected(conn: OpcUaConnector, connects: int = 1) -> None:
    await until(
        lambda: conn.health().status is ConnectorStatus.CONNECTED and conn.connects >= connects,
        f"connect number {connects}",
    )


async def test_values_source_timestamps_and_status_codes_arrive_as_samples() -> None:
    server = TestServer(free_port(), ["m/a", "m/b"])
    async with server as srv, connector(srv.endpoint, "m/a", "m/b") as conn:
        got = Collector(conn)
        await connected(conn)
        await srv.write("m/a", 1.5, T)
        await srv.write("m/b", 7.0, T + 1 * NS_PER_S)
        uncertain = StatusCodes.UncertainLastUsableValue
        await srv.write("m/a", 2.5, T + 2 * NS_PER_S, status=uncertain)
        await srv.write("m/b", 8.0, T + 3 * NS_PER_S, status=StatusCodes.BadSensorFailure)
        await srv.write("m/a", 3.5, T + 4 * NS_PER_S)
        await until(lambda: len(got.rows()) >= 5, "five samples")
        await got.close()
    assert sorted(got.rows(), key=lambda r: r[1]) == [
        ("m/a", T, 1.5, 0),
        ("m/b", T + 1 * NS_PER_S, 7.0, 0),
        ("m/a", T + 2 * NS_PER_S, 2.5, Quality.UNCERTAIN),
        ("m/b", T + 3 * NS_PER_S, 8.0, Quality.BAD),
        ("m/a", T + 4 * NS_PER_S, 3.5, 0),
    ]
    assert all(b.source == "plc" for b in got.batches)
    assert conn.health().samples == 5
    assert got.dead == []  # BadWaitingForInitialData before the first value is no reading


async def test_a_bad_status_without_a_value_is_a_dead_letter() -> None:
    async with TestServer(free_port(), ["m/a"]) as srv, connector(srv.endpoint, "m/a") as conn:
        got = Collector(conn)
        await connected(conn)
        await srv.write("m/a", 1.0, T)
        # asyncua sends a Bad write without its value, as OPC UA Part 4 asks
        await srv.server.write_attribute_value(
            srv.nodes["m/a"],
            __import__("asyncua").ua.DataValue(
                StatusCode=__import__("asyncua").ua.StatusCode(StatusCodes.BadDeviceFailure)
            ),
        )
        await until(lambda: len(got.dead) == 1, "a dead letter")
        await got.close()
    assert "BadDeviceFailure" in got.dead[0].reason
    assert got.dead[0].location.startswith("m/a @ ")
    assert [r[2] for r in got.rows()] == [1.0]


async def test_an_absolute_deadband_drops_small_changes_at_the_server() -> None:
    # asyncua's deadband check fails on a node without a value yet: start with one
    async with TestServer(free_port(), ["m/a"], initial=(0.0, T - NS_PER_S)) as srv:
        options: dict[str, object] = {
            "deadband": {"type": "absolute", "value": 1.0},
            "trigger": "status_value",
        }
        async with connector(srv.endpoint, "m/a", extra=options) as conn:
            got = Collector(conn)
            await connected(conn)
            for i, value in enumerate([10.0, 10.5, 11.6, 11.9, 13.0, 13.0]):
                await srv.write("m/a", value, T + i * NS_PER_S)
            await until(lambda: len(got.rows()) >= 4, "four samples")
            await asyncio.sleep(0.3)  # nothing else may come
            await got.close()
    # asyncua compares with the previous value written (the spec: the last one reported)
    assert [r[2] for r in got.rows()] == [0.0, 10.0, 11.6, 13.0]


async def test_every_new_timestamp_is_a_sample_by_default() -> None:
    async with TestServer(free_port(), ["m/a"]) as srv, connector(srv.endpoint, "m/a") as conn:
        got = Collector(conn)
        await connected(conn)
        for i in range(4):
            await srv.write("m/a", 100.0, T + i * NS_PER_S)  # a steady value, heartbeats
        await until(lambda: len(got.rows()) >= 4, "four samples")
        await got.close()
    assert [r[1] for r in got.rows()] == [T + i * NS_PER_S for i in range(4)]


async def test_a_command_writes_the_node_and_refusals_are_clear() -> None:
    port = free_port()
    async with TestServer(port, ["m/a"], writable=["m/sp"]) as srv:

        def refuse_above_100(node: object, attr: object, dv: object) -> None:
            value = dv.Value.Value  # type: ignore[attr-defined]
            if value > 100:
                from asyncua.ua.uaerrors import UaStatusCodeError  # noqa: PLC0415

                raise UaStatusCodeError(StatusCodes.BadOutOfRange)  # type: ignore[no-untyped-call]
            node.attributes[attr].value = dv  # type: ignore[attr-defined]

        srv.server.set_attribute_value_setter(srv.nodes["m/sp"], refuse_above_100)
        async with connector(srv.endpoint, "m/a", commands=("m/sp",)) as conn:
            await connected(conn)
            await conn.write("m/sp", 42.0)
            assert await srv.read("m/sp") == 42.0
            with pytest.raises(ConnectorError, match=r"refused 500\.0 at 'm/sp'.*BadOutOfRange"):
                await conn.write("m/sp", 500.0)
            assert await srv.read("m/sp") == 42.0
            with pytest.raises(ConnectorError, match="no command bound to address 'm/a'"):
                await conn.write("m/a", 1.0)
    async with connector(f"opc.tcp://127.0.0.1:{port}", "m/a", commands=("m/sp",)) as conn:
        with pytest.raises(ConnectorError, match="cannot write 'm/sp': not connected"):
            await conn.write("m/sp", 1.0)


class Operators:
    """Only operator/secret may log in."""

    def get_user(
        self,
        iserver: InternalServer,
        username: str | None = None,
        password: str | None = None,
        certificate: object = None,
    ) -> User | None:
        if username == "operator" and password == "secret":
            return User(role=UserRole.User, name=username)
        return None


async def test_user_and_password_log_in_and_a_wrong_password_is_reported() -> None:
    srv = TestServer(free_port(), ["m/a"], user_manager=Operators())  # type: ignore[arg-type]
    srv.server.set_identity_tokens([UserNameIdentityToken])
    async with srv:
        login = {"username": "operator", "password": "secret"}
        async with connector(srv.endpoint, "m/a", extra=login) as ok:
            got = Collector(ok)
            await connected(ok)
            await srv.write("m/a", 5.0, T)
            await until(lambda: len(got.rows()) == 1, "a sample")
            await got.close()
        login["password"] = "wrong"
        async with connector(srv.endpoint, "m/a", extra=login) as bad:
            await until(lambda: bad.health().last_error is not None, "an error")
            await asyncio.sleep(0.3)
            health = bad.health()
    assert health.status is ConnectorStatus.RECONNECTING
    assert health.last_error is not None
    assert "BadUserAccessDenied" in health.last_error or "Identity" in health.last_error

"""OPC UA server -> client throughput in one process, and what it means for `plantwin demo`.

Baseline (same run): the asyncua server alone writing values into its nodes, nobody
subscribed. Then the same writes with the OPC UA connector subscribed (every value a sample,
one RawBatch per notification message) at several publishing intervals. The demo line's
readings per simulated second give the highest demo speed the OPC UA path carries.
"""

from __future__ import annotations

import asyncio
import socket
import time
from datetime import UTC, datetime, timedelta

from asyncua import ua
from asyncua.server.server import Server
from tests.conftest import EXAMPLE

from bench.common import emit, pin_to_one_core
from plantwin.connectors.opcua import OpcUaConnector, OpcUaOptions
from plantwin.core.clock import NS_PER_S, WallClock
from plantwin.core.connector import ConnectorStatus
from plantwin.core.samples import RawBatch
from plantwin.model.loader import load_plant
from plantwin.model.plant import BindingDef
from plantwin.simulation.demo_plant import DemoLine
from plantwin.simulation.demo_plant.opcua_server import DEMO_NAMESPACE

NODES = 60
STEPS = 400  # values per node
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def server(port: int) -> tuple[Server, list[ua.NodeId]]:
    srv = Server()
    await srv.init()
    srv.set_endpoint(f"opc.tcp://127.0.0.1:{port}")
    srv.set_security_policy([ua.SecurityPolicyType.NoSecurity])
    srv.set_identity_tokens([ua.AnonymousIdentityToken])
    ns = await srv.register_namespace(DEMO_NAMESPACE)
    folder = await srv.nodes.objects.add_folder(ua.NodeId(ua.String("b"), ua.Int16(ns)), "b")
    nodes = []
    for i in range(NODES):
        node = await folder.add_variable(
            ua.NodeId(ua.String(f"v{i}"), ua.Int16(ns)), f"v{i}", 0.0, ua.VariantType.Double
        )
        nodes.append(node.nodeid)
    return srv, nodes


async def write_all(srv: Server, nodes: list[ua.NodeId], first: int) -> None:
    for k in range(first, first + STEPS):
        when = T0 + timedelta(seconds=k)
        for node in nodes:
            dv = ua.DataValue(
                ua.Variant(float(k), ua.VariantType.Double),
                SourceTimestamp=when,  # type: ignore[arg-type]
                ServerTimestamp=when,  # type: ignore[arg-type]
            )
            await srv.write_attribute_value(node, dv)
        if k % 20 == 0:
            await asyncio.sleep(0)


async def measure(publishing_ms: float | None) -> float:
    """Values/s: server writes only (None), or server -> connector at that interval."""
    port = free_port()
    srv, nodes = await server(port)
    async with srv:
        if publishing_ms is None:
            start = time.perf_counter()
            await write_all(srv, nodes, 0)
            return NODES * STEPS / (time.perf_counter() - start)
        options = OpcUaOptions(
            endpoint=f"opc.tcp://127.0.0.1:{port}",
            namespace=DEMO_NAMESPACE,
            publishing_interval_ms=publishing_ms,
            queue_size=10_000,
        )
        bindings = [
            BindingDef(connector="b", address=f"v{i}", signal=f"b/v{i}", scale=1.0, offset=0.0,
                       source_unit="", a=1.0, b=0.0)
            for i in range(NODES)
        ]  # fmt: skip
        conn = OpcUaConnector(name="b", options=options, bindings=bindings, clock=WallClock())
        async with conn:
            while conn.health().status is not ConnectorStatus.CONNECTED:  # noqa: ASYNC110
                await asyncio.sleep(0.02)
            got = 0

            async def count() -> None:
                nonlocal got
                async for item in conn.readings():
                    if isinstance(item, RawBatch):
                        got += len(item)

            counter = asyncio.create_task(count())
            start = time.perf_counter()
            await write_all(srv, nodes, 1)
            while got < NODES * STEPS and time.perf_counter() - start < 120:  # noqa: ASYNC110
                await asyncio.sleep(0.005)
            elapsed = time.perf_counter() - start
            counter.cancel()
            if got < NODES * STEPS:
                print(f"  only {got} of {NODES * STEPS} values arrived")
            return got / elapsed


def demo_rate() -> float:
    """Readings per simulated second of the demo line (one simulated hour)."""
    plant = load_plant(EXAMPLE)
    line = DemoLine(plant=plant, seed=7, start_ns=1_790_000_000 * NS_PER_S)
    return sum(len(b) for b in line.run(3600)) / 3600


async def main() -> None:
    where = pin_to_one_core()
    print(f"OPC UA server -> connector, {NODES} nodes x {STEPS} values, one process, {where}")
    raw = await measure(None)
    print(f"  server writes only (baseline)        {raw:>10,.0f} values/s")
    figures: dict[str, object] = {"bench": "opcua", "server_writes_per_s": round(raw)}
    per_plant_s = demo_rate()
    for ms in (50.0, 200.0, 1000.0):
        rate = await measure(ms)
        print(
            f"  subscribed, publishing {ms:>6.0f} ms    {rate:>10,.0f} values/s"
            f"  ratio {rate / raw:.2f}  -> demo speed up to ~{rate / per_plant_s:,.0f}x"
        )
        figures[f"e2e_per_s_{int(ms)}ms"] = round(rate)
        figures[f"ratio_{int(ms)}ms"] = round(rate / raw, 3)
    print(f"  demo line: {per_plant_s:.1f} readings per simulated second")
    figures["demo_readings_per_plant_s"] = round(per_plant_s, 1)
    emit(figures)


if __name__ == "__main__":
    asyncio.run(main())

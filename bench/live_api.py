"""Live API benchmark: 1,000 signals at 1 Hz to 20 WebSocket clients; server CPU and latency.

Run: .venv/bin/python -m bench live [--seconds 20] [--clients 20] [--signals 1000]
     (or python -m bench.live_api with the same options)

The server is a real runtime in its own process (pinned to one core): a plant of machines
with 8 signals each behind an http connector. A producer posts every signal once a second
(in 10 bodies of 100 readings, one every 100 ms, each reading stamped with the wall time it
was made) to POST /api/v1/ingest; 20 clients subscribe to every signal over /api/v1/live at
20 frames/s (--rate; at 10, the data's own rate, pacing adds up to a period: see
docs/live-api.md). Latency is the client's receive time minus the reading's time: ingest, twin,
live hub, frame and socket, end to end (one machine, one clock). Server CPU is the server
process's CPU time over wall time while measuring (from /proc, Linux).

The baseline, in the same run, is a bare broadcast server in its own process (websockets,
no plantwin): the producer sends the same readings as JSON over a WebSocket; the server
parses each message, builds one frame of the same shape and sends it to every client.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import websockets

from bench.common import emit, free_port
from plantwin.core.clock import iso

TOKEN = "pwt_bench-live-api-admin-token"  # noqa: S105  # the server admin token (raw: ignored)
AUTH = {"Authorization": f"Bearer {TOKEN}"}

SIGNALS = ("power", "current", "vibration", "bearing_temp", "coolant_temp", "speed", "pressure")
BODIES_PER_S = 10
WARMUP_S = 3.0

PLANT = """
plantwin: 1
name: live bench
connectors:
  gw: {kind: http, max_body_bytes: 67108864}
types:
  machine:
    signals:
      power: {unit: kW}
      current: {unit: A}
      vibration: {unit: mm/s}
      bearing_temp: {unit: degC}
      coolant_temp: {unit: degC}
      speed: {unit: rpm}
      pressure: {unit: bar}
      flow: {unit: l/min}
    bindings:
      "*": {connector: gw, address: "{asset}/{signal}"}
sites:
  s:
    lines:
      L:
        assets:
"""


def addresses(signals: int) -> list[str]:
    machines = (signals + 7) // 8
    every = [f"m{m:04d}/{s}" for m in range(machines) for s in (*SIGNALS, "flow")]
    return every[:signals]


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of a process, from /proc (Linux); None elsewhere."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# -- the two servers (child processes) ---------------------------------------------------


def serve_plantwin(plant: Path, port: int, store: Path) -> None:
    from plantwin.runtime import Runtime, Settings  # noqa: PLC0415 - only in the child

    settings = Settings(plant=plant, store=str(store), port=port, admin_token=TOKEN)

    async def run() -> None:
        async with Runtime(settings) as runtime:
            await runtime.serve()  # until SIGTERM

    asyncio.run(run())


def serve_raw(port: int) -> None:
    """Bare broadcast: parse each producer message, one frame, send it to every client."""
    clients: set[websockets.ServerConnection] = set()

    async def handler(ws: websockets.ServerConnection) -> None:
        if ws.request is not None and ws.request.path == "/produce":
            async for message in ws:
                readings = json.loads(message)
                frame = json.dumps(
                    {
                        "type": "frame",
                        "samples": {a: [t, v, v, v, 1, 0] for a, t, v in readings},
                    },
                    separators=(",", ":"),
                )
                websockets.broadcast(clients, frame)
            return
        await ws.recv()  # its subscription
        clients.add(ws)
        try:
            await ws.wait_closed()
        finally:
            clients.discard(ws)

    async def run() -> None:
        async with websockets.serve(handler, "127.0.0.1", port, max_size=None):
            await asyncio.Future()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run())


# -- the load: producer and clients (this process) ---------------------------------------


@dataclass
class Client:
    latencies_ms: list[float] = field(default_factory=list)
    frames: int = 0
    seq_breaks: int = 0  # frames not continuing the previous one (plantwin only)
    last_seq: int | None = None


async def consume(
    url: str, rate: float, client: Client, measuring: asyncio.Event, stop: asyncio.Event
) -> None:
    async with websockets.connect(url, max_size=None, additional_headers=AUTH) as ws:
        await ws.send(json.dumps({"subscribe": {"kinds": ["samples"], "max_rate_hz": rate}}))
        while not stop.is_set():
            try:
                text = await asyncio.wait_for(ws.recv(), 0.5)
            except TimeoutError:
                continue
            now_ms = time.time_ns() / 1e6
            message = json.loads(text)
            if message.get("type") == "snapshot":
                client.last_seq = message["seq"]
            if message.get("type") != "frame":
                continue
            if "seq" in message:
                if client.last_seq is not None and message["seq"][0] != client.last_seq + 1:
                    client.seq_breaks += 1
                client.last_seq = message["seq"][1]
            if measuring.is_set():
                client.frames += 1
                client.latencies_ms.extend(now_ms - p[0] for p in message["samples"].values())


async def produce_http(port: int, names: list[str], stop: asyncio.Event) -> int:
    """Every 100 ms, one tenth of the signals as NDJSON to POST /api/v1/ingest."""
    import httpx  # noqa: PLC0415

    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", headers=AUTH) as http:
        return await _produce(names, stop, lambda body: _post(http, body))


async def _post(http: object, readings: list[tuple[str, int, float]]) -> None:
    import httpx  # noqa: PLC0415

    assert isinstance(http, httpx.AsyncClient)
    body = "".join(
        json.dumps({"address": a, "ts": iso(t * 1_000_000), "value": v}) + "\n"
        for a, t, v in readings
    )
    answer = await http.post(
        "/api/v1/ingest", content=body, headers={"content-type": "application/x-ndjson"}
    )
    answer.raise_for_status()


async def produce_ws(port: int, names: list[str], stop: asyncio.Event) -> int:
    async with websockets.connect(f"ws://127.0.0.1:{port}/produce", max_size=None) as ws:
        return await _produce(names, stop, lambda body: ws.send(json.dumps(body)))


async def _produce(names: list[str], stop: asyncio.Event, send: object) -> int:
    """Send each signal once a second, a tenth every 100 ms, on a fixed schedule."""
    assert callable(send)
    step = len(names) // BODIES_PER_S
    start = time.monotonic()
    tick = 0
    while not stop.is_set():
        part = names[(tick % BODIES_PER_S) * step : (tick % BODIES_PER_S + 1) * step]
        now_ms = time.time_ns() // 1_000_000
        value = float(tick % 97)
        await send([(a, now_ms, value) for a in part])
        tick += 1
        await asyncio.sleep(max(0.0, start + tick / BODIES_PER_S - time.monotonic()))
    return tick * step


async def wait_up(port: int) -> None:
    for _ in range(400):
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            await asyncio.sleep(0.05)
        else:
            writer.close()
            await writer.wait_closed()
            return
    msg = f"no server on port {port}"
    raise RuntimeError(msg)


async def measure(
    name: str,
    server: subprocess.Popen[bytes],
    port: int,
    names: list[str],
    args: argparse.Namespace,
) -> dict[str, float]:
    await wait_up(port)
    stop, measuring = asyncio.Event(), asyncio.Event()
    clients = [Client() for _ in range(args.clients)]
    url = f"ws://127.0.0.1:{port}/api/v1/live"
    tasks = [asyncio.create_task(consume(url, args.rate, c, measuring, stop)) for c in clients]
    produce = produce_http if name == "plantwin" else produce_ws
    producer = asyncio.create_task(produce(port, names, stop))
    await asyncio.sleep(WARMUP_S)
    cpu0, wall0 = cpu_seconds(server.pid), time.monotonic()
    measuring.set()
    await asyncio.sleep(args.seconds)
    measuring.clear()
    cpu1, wall1 = cpu_seconds(server.pid), time.monotonic()
    stop.set()
    sent = await producer
    await asyncio.gather(*tasks)
    latencies = np.array([x for c in clients for x in c.latencies_ms])
    cpu = (cpu1 - cpu0) / (wall1 - wall0) if cpu0 is not None and cpu1 is not None else float("nan")
    return {
        "server_cpu": cpu,
        "p50_ms": float(np.percentile(latencies, 50)) if len(latencies) else float("nan"),
        "p99_ms": float(np.percentile(latencies, 99)) if len(latencies) else float("nan"),
        "max_ms": float(latencies.max()) if len(latencies) else float("nan"),
        "points_per_s": len(latencies) / args.seconds,
        "frames_per_client_s": sum(c.frames for c in clients) / args.clients / args.seconds,
        "seq_breaks": sum(c.seq_breaks for c in clients),
        "readings_sent": sent,
    }


def run_server(argv: list[str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "bench.live_api", *argv])


def stop_server(server: subprocess.Popen[bytes]) -> None:
    server.terminate()
    try:
        server.wait(30)
    except subprocess.TimeoutExpired:
        server.kill()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--signals", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=20.0, help="frames/s each client asks for")
    parser.add_argument("--serve", nargs="+", help=argparse.SUPPRESS)  # child process
    args = parser.parse_args()
    if args.serve:
        if hasattr(os, "sched_setaffinity"):  # the server gets one core, the load another
            os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
        if args.serve[0] == "plantwin":
            serve_plantwin(Path(args.serve[1]), int(args.serve[2]), Path(args.serve[3]))
        else:
            serve_raw(int(args.serve[1]))
        return
    names = addresses(args.signals)
    figures: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        plant = Path(tmp) / "plant.yaml"
        machines = (args.signals + 7) // 8
        plant.write_text(
            PLANT + "".join(f"          m{i:04d}: {{type: machine}}\n" for i in range(machines))
        )
        for name in ("raw", "plantwin"):
            port = free_port()
            argv = (
                ["--serve", "raw", str(port)]
                if name == "raw"
                else ["--serve", "plantwin", str(plant), str(port), str(Path(tmp) / "b.duckdb")]
            )
            server = run_server(argv)
            try:
                figures[name] = asyncio.run(measure(name, server, port, names, args))
            finally:
                stop_server(server)
    print(
        f"Live API benchmark: {args.signals:,} signals at 1 Hz, {args.clients} clients at "
        f"{args.rate:g} frames/s, {args.seconds:g} s measured; server pinned to one core"
    )
    print(
        f"{'server':9} {'CPU':>6} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} {'points/s':>9} "
        f"{'frames/s':>9} {'seq breaks':>10}"
    )
    for name, f in figures.items():
        print(
            f"{name:9} {f['server_cpu']:6.1%} {f['p50_ms']:8.1f} {f['p99_ms']:8.1f} "
            f"{f['max_ms']:8.1f} {f['points_per_s']:9,.0f} {f['frames_per_client_s']:9.1f} "
            f"{int(f['seq_breaks']):10d}"
        )
    raw, ours = figures["raw"], figures["plantwin"]
    print(
        f"ratios plantwin/raw: CPU {ours['server_cpu'] / raw['server_cpu']:.2f}x, "
        f"p99 {ours['p99_ms'] / raw['p99_ms']:.2f}x"
    )
    emit(
        {
            "bench": "live",
            "signals": args.signals,
            "clients": args.clients,
            "rate_hz": args.rate,
            **{f"{n}_{k}": round(v, 3) for n, f in figures.items() for k, v in f.items()},
        }
    )


if __name__ == "__main__":
    main()

"""HTTP ingest benchmark: POST /api/v1/ingest -> pipeline -> DuckDB, NDJSON vs Arrow IPC.

Run: .venv/bin/python -m bench.http_ingest [--bodies 30] [--records 10_000] [--dir /tmp]

A real runtime serves the API on loopback; one bare HTTP/1.1 client in the same process (and
on the same pinned core) posts bodies of 10,000 readings of 100 machines x 8 signals one
after another, retrying on 503, then waits until everything is committed. The figure is
records/s from the first post to the last commit. The baselines, measured in the same run,
only parse the same bodies: ``json.loads`` of every line, and pyarrow reading every stream
into the Python and numpy columns a RawBatch holds.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from pathlib import Path

import pyarrow as pa

from bench.common import emit, free_port, pin_to_one_core
from plantwin.core.clock import iso
from plantwin.runtime import Runtime, Settings

NS = 1_000_000_000
T0 = 1_760_000_000 * NS  # in the past: the runtime runs on the wall clock
MACHINES = 100
SIGNALS = ("power", "current", "vibration", "bearing_temp", "coolant_temp", "speed", "pressure")
TYPES = {"ndjson": "application/x-ndjson", "arrow": "application/vnd.apache.arrow.stream"}

PLANT = """
plantwin: 1
name: http bench
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


def readings(bodies: int, records: int) -> list[tuple[list[str], list[int], list[float]]]:
    addresses = [f"m{m:03d}/{s}" for m in range(MACHINES) for s in (*SIGNALS, "flow")]
    out = []
    n = 0
    for _ in range(bodies):
        index = range(n, n + records)
        out.append(
            (
                [addresses[i % len(addresses)] for i in index],
                [T0 + (i // len(addresses)) * NS for i in index],
                [round(0.5 + (i % 97) / 10, 2) for i in index],
            )
        )
        n += records
    return out


def ndjson(body: tuple[list[str], list[int], list[float]]) -> bytes:
    return b"".join(
        json.dumps({"address": a, "ts": iso(t), "value": v}).encode() + b"\n"
        for a, t, v in zip(*body, strict=True)
    )


def arrow(body: tuple[list[str], list[int], list[float]]) -> bytes:
    address, ts, value = body
    table = pa.table(
        {
            "address": address,
            "ts": pa.array(ts, pa.timestamp("ns", tz="UTC")),
            "value": value,
        }
    )
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return bytes(sink.getvalue())


def parse_only(kind: str, bodies: list[bytes], records: int) -> float:
    start = time.perf_counter()
    for body in bodies:
        if kind == "ndjson":
            for line in body.splitlines():
                json.loads(line)
        else:  # to the Python/numpy columns a RawBatch holds
            table = pa.ipc.open_stream(body).read_all()
            table["address"].to_pylist()
            table["ts"].cast(pa.int64()).to_numpy()
            table["value"].to_numpy()
    return records * len(bodies) / (time.perf_counter() - start)


class Poster:
    """A bare HTTP/1.1 keep-alive client: one write per request, little client cost in the
    figure (the client shares the pinned core with the server)."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        self.token = ""  # the bearer token sent with each request

    @classmethod
    async def connect(cls, port: int) -> Poster:
        for _ in range(200):
            try:
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
            except OSError:
                await asyncio.sleep(0.05)
            else:
                return cls(reader, writer)
        msg = f"the API on port {port} did not come up"
        raise RuntimeError(msg)

    async def post(self, path: str, content_type: str, body: bytes) -> tuple[int, bytes]:
        head = (
            f"POST {path} HTTP/1.1\r\nHost: bench\r\nContent-Type: {content_type}\r\n"
            f"Authorization: Bearer {self.token}\r\nContent-Length: {len(body)}\r\n\r\n"
        )
        self.writer.write(head.encode() + body)
        await self.writer.drain()
        status = int((await self.reader.readline()).split()[1])
        length = 0
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode().partition(":")
            if name.lower() == "content-length":
                length = int(value)
        return status, await self.reader.readexactly(length)

    async def close(self) -> None:
        self.writer.close()
        await self.writer.wait_closed()


async def endpoint(
    kind: str, bodies: list[bytes], records: int, newest: int, plant: Path, folder: Path
) -> tuple[float, int, int]:
    """(records/s from first post to last commit, samples committed, 503 retries)."""
    settings = Settings(plant=plant, store=str(folder / f"{kind}.duckdb"), port=free_port())
    retries = 0
    async with Runtime(settings) as runtime:
        serving = asyncio.create_task(runtime.serve())
        client = await Poster.connect(settings.port)
        client.token = runtime.admin_token
        start = time.perf_counter()
        for body in bodies:
            while True:
                status, answer = await client.post("/api/v1/ingest", TYPES[kind], body)
                if status != 503:
                    break
                retries += 1
                await asyncio.sleep(0.01)
            assert status == 200, answer
            assert json.loads(answer)["accepted"] == records, answer
        await asyncio.wait_for(runtime.pipeline.settle(newest), timeout=600)
        elapsed = time.perf_counter() - start
        await client.close()
        runtime.stop.set()
        await serving
        stored = runtime.store.stats().committed_samples
    return records * len(bodies) / elapsed, stored, retries


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bodies", type=int, default=30)
    parser.add_argument("--records", type=int, default=10_000)
    parser.add_argument("--dir", type=Path, default=None)
    args = parser.parse_args()
    pinned = pin_to_one_core()
    data = readings(args.bodies, args.records)
    total = args.bodies * args.records
    figures: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        plant = Path(tmp) / "plant.yaml"
        plant.write_text(
            PLANT + "".join(f"          m{i:03d}: {{type: machine}}\n" for i in range(MACHINES))
        )
        for kind, encode in (("ndjson", ndjson), ("arrow", arrow)):
            bodies = [encode(body) for body in data]
            raw = parse_only(kind, bodies, args.records)
            rate, stored, retries = asyncio.run(
                endpoint(kind, bodies, args.records, data[-1][1][-1], plant, Path(tmp))
            )
            assert stored == total, f"{kind}: stored {stored} of {total}"
            figures[kind] = {
                "records_per_s": rate,
                "parse_only_per_s": raw,
                "ratio": rate / raw,
                "retries": retries,
                "body_bytes": len(bodies[0]),
            }
    print(f"HTTP ingest benchmark ({pinned}; {args.bodies} bodies of {args.records:,} records)")
    print(f"{'format':8} {'post -> committed':>18} {'parse only':>14} {'ratio':>7} {'503s':>5}")
    for kind, f in figures.items():
        print(
            f"{kind:8} {f['records_per_s']:16,.0f}/s {f['parse_only_per_s']:12,.0f}/s "
            f"{f['ratio']:7.3f} {int(f['retries']):5d}"
        )
    emit(
        {
            "bench": "http",
            "records": total,
            **{
                f"{kind}_{key}": round(value, 3) if key == "ratio" else round(value)
                for kind, f in figures.items()
                for key, value in f.items()
            },
        }
    )


if __name__ == "__main__":
    main()

"""A real Runtime serving the replay example: file replay and HTTP ingest into the store."""

from __future__ import annotations

import asyncio
import json
import socket
from pathlib import Path

import httpx
import pyarrow as pa
import pytest

from plantwin.core.clock import NS_PER_S, parse_iso
from plantwin.core.records import DeadLetter
from plantwin.core.store import HistoryQuery, RecordQuery
from plantwin.runtime import Runtime, Settings
from tests.api.conftest import REPLAY_PLANT
from tests.runtime.demo_process import free_port

T = parse_iso("2026-11-20T07:00:00Z")  # in the past: the runtime runs on the wall clock


async def _wait_until_up(http: httpx.AsyncClient) -> None:
    for _ in range(100):
        try:
            if (await http.get("/api/v1/health")).status_code == 200:
                return
        except httpx.TransportError:
            pass
        await asyncio.sleep(0.05)
    pytest.fail("the API did not come up")


def _arrow(rows: int) -> bytes:
    table = pa.table(
        {
            "address": ["meter1/energy"] * rows,
            "ts": pa.array([T + i * NS_PER_S for i in range(rows)], pa.timestamp("ns", "UTC")),
            "value": [1000.0 + i for i in range(rows)],
        }
    )
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return bytes(sink.getvalue())


@pytest.mark.integration
async def test_replay_and_http_ingest_land_in_the_store_with_a_count_check(
    tmp_path: Path,
) -> None:
    settings = Settings(plant=REPLAY_PLANT, store=str(tmp_path / "e2e.duckdb"), port=free_port())
    lines = [
        json.dumps({"address": "meter1/power", "ts": T // NS_PER_S + i, "value": 100 + i})
        for i in range(100)
    ]
    lines.insert(10, "{not json")
    lines.insert(20, json.dumps({"address": "meter7/power", "ts": T // NS_PER_S, "value": 1}))
    async with Runtime(settings) as runtime:
        serving = asyncio.create_task(runtime.serve())
        base = f"http://127.0.0.1:{settings.port}"
        headers = {"Authorization": f"Bearer {runtime.admin_token}"}
        async with httpx.AsyncClient(base_url=base, headers=headers) as http:
            await _wait_until_up(http)
            ndjson = await http.post(
                "/api/v1/ingest?precision=s",
                content="\n".join(lines).encode(),
                headers={"content-type": "application/x-ndjson"},
            )
            arrow = await http.post(
                "/api/v1/ingest",
                content=_arrow(50),
                headers={"content-type": "application/vnd.apache.arrow.stream"},
            )
            for _ in range(100):  # the replay runs at full speed; wait for its end
                listed = (await http.get("/api/v1/connectors")).json()["connectors"]
                status = {c["name"]: c for c in listed}
                if status["recording"]["status"] == "finished":
                    break
                await asyncio.sleep(0.05)
        runtime.stop.set()  # straight after the posts: what was accepted must still land
        await serving
        stats = runtime.store.stats()
        dead = await runtime.store.records(RecordQuery(kind=DeadLetter))
        power = await runtime.store.history(
            HistoryQuery(
                signal=runtime.catalog.id("busan.meter1/power"), start=T, end=T + 200 * NS_PER_S
            )
        )
        derived = runtime.pipeline.stats.derived
    assert ndjson.status_code == 200, ndjson.text
    result = ndjson.json()
    assert (result["records"], result["accepted"], result["rejected"]) == (102, 100, 2)
    assert [e["line"] for e in result["errors"]] == [11, 21]
    assert arrow.json()["accepted"] == 50
    assert status["recording"]["samples"] == 480
    assert status["gateway"]["kind"] == "http"
    # Count check: every accepted record and every replayed row is stored once.
    assert derived == 120  # load of two presses at 60 times
    assert stats.committed_samples == 480 + derived + 100 + 50
    assert stats.pending_samples == 0
    assert len(power) == 100
    assert power.last.tolist() == [100.0 + i for i in range(100)]
    assert sorted(d.location for d in dead if isinstance(d, DeadLetter)) == ["line 11", "line 21"]


async def test_api_connections_send_without_nagle_delay(tmp_path: Path) -> None:
    """asyncio disables Nagle only on sockets made with proto=IPPROTO_TCP; without it every
    answer on a kept-alive connection waited for the client's delayed ACK (~40 ms)."""
    runtime = Runtime(Settings(plant=REPLAY_PLANT, store=":memory:", port=free_port()))
    sock = runtime._bind()
    accepted: asyncio.Future[int] = asyncio.get_running_loop().create_future()

    class Probe(asyncio.Protocol):
        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            peer = transport.get_extra_info("socket")
            accepted.set_result(peer.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
            transport.close()

    server = await asyncio.get_running_loop().create_server(Probe, sock=sock)
    async with server:
        _, writer = await asyncio.open_connection("127.0.0.1", runtime.settings.port)
        assert await asyncio.wait_for(accepted, 10) == 1
        writer.close()

"""The live WebSocket against a real Runtime (demo plant in process) and a real client."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import itertools
import json
import secrets
import socket
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import websockets
from websockets.asyncio.client import ClientConnection

from plantwin.api.live.ring import Ring
from plantwin.api.live.schemas import FrameOut, SnapshotOut
from plantwin.core.bus import Topic
from plantwin.core.records import Event, EventKind
from plantwin.runtime import Runtime, Settings
from tests.conftest import EXAMPLE
from tests.runtime.demo_process import free_port

PRESSURE = "changwon.compressor1/pressure"
ALWAYS = "changwon.meter1:site_running"
Message = dict[str, Any]


def _plant(tmp_path: Path) -> Path:
    """The demo plant with an alarm that is active from the start."""
    text = EXAMPLE.read_text().replace(
        """      meter1:
        type: energy_meter
        name: Main incomer
""",
        """      meter1:
        type: energy_meter
        name: Main incomer
        rules:
          site_running: {kind: threshold, signal: power, above: 1 kW, priority: high}
""",
        1,
    )
    path = tmp_path / "plant.yaml"
    path.write_text(text)
    return path


@pytest.fixture
async def runtime(tmp_path: Path) -> AsyncIterator[Runtime]:
    settings = Settings(
        plant=_plant(tmp_path),
        store=":memory:",
        port=free_port(),
        demo=True,
        in_process=True,
        speed=60.0,
    )
    async with Runtime(settings) as rt:
        serving = asyncio.create_task(rt.serve())
        try:
            yield rt
        finally:
            rt.stop.set()
            await serving


def _url(rt: Runtime) -> str:
    return f"ws://127.0.0.1:{rt.settings.port}/api/v1/live"


def _auth(rt: Runtime) -> dict[str, str]:
    return {"Authorization": f"Bearer {rt.admin_token}"}


async def _connect(rt: Runtime, *, token: bool = True) -> ClientConnection:
    for _ in range(100):
        try:
            return await websockets.connect(_url(rt), additional_headers=_auth(rt) if token else {})
        except OSError:
            await asyncio.sleep(0.05)
    pytest.fail("the live API did not come up")


async def _subscribe(ws: ClientConnection, **request: Any) -> Message:
    resume = {k: request.pop(k) for k in ("resume_from", "stream") if k in request}
    await ws.send(json.dumps({"subscribe": request, **resume}))
    subscribed = await _recv(ws)
    assert subscribed["type"] == "subscribed", subscribed
    return subscribed


async def _recv(ws: ClientConnection, wait_s: float = 5.0) -> Message:
    message: Message = json.loads(await asyncio.wait_for(ws.recv(), wait_s))
    return message


async def _collect(ws: ClientConnection, seconds: float) -> list[tuple[float, Message]]:
    out: list[tuple[float, Message]] = []
    end = time.monotonic() + seconds
    while (left := end - time.monotonic()) > 0:
        try:
            out.append((time.monotonic(), await _recv(ws, left)))
        except TimeoutError:
            break
    return out


def _check_chain(messages: list[Message], start: int) -> int:
    """Every frame continues the previous one (or a snapshot); returns the last seq."""
    expected = start
    for m in messages:
        if m["type"] == "frame":
            assert m["seq"][0] == expected, (m["seq"], expected)
            assert m["seq"][1] >= m["seq"][0]
            expected = m["seq"][1] + 1
        elif m["type"] == "snapshot":
            expected = m["seq"] + 1
        elif m["type"] != "gap":  # a gap is followed by its snapshot
            pytest.fail(f"unexpected message {m}")
    return expected - 1


@pytest.mark.slow
async def test_a_client_gets_its_signals_decimated_to_its_rate_with_continuous_seqs(
    runtime: Runtime,
) -> None:
    ws = await _connect(runtime)
    async with ws:
        subscribed = await _subscribe(ws, signals=[PRESSURE], kinds=["samples"], max_rate_hz=4)
        assert subscribed["signals"] == 1
        snapshot = SnapshotOut.model_validate(await _recv(ws))
        assert set(snapshot.signals) <= {PRESSURE}
        received = await _collect(ws, 2.5)
    messages = [m for _, m in received]
    frames = [FrameOut.model_validate(m) for m in messages]  # every frame fits the schema
    assert all(f.samples is not None and set(f.samples) == {PRESSURE} for f in frames)
    _check_chain(messages, snapshot.seq + 1)
    # The demo at 60x makes about 60 pressure samples a wall second (handed over about
    # twice a second): each frame carries them as one point with min, max and count.
    assert 3 <= len(frames) <= 4 * 2.5 + 2
    points = [f.samples[PRESSURE] for f in frames if f.samples]
    assert sum(p[4] for p in points) > 2 * len(points)
    assert all(p[2] <= p[1] <= p[3] for p in points)
    # The rate holds over any window: 4 frames a second plus a burst of 2.
    arrivals = [t for t, _ in received]
    for i, start in enumerate(arrivals):
        within = [t for t in arrivals[i:] if t - start < 1.0]
        assert len(within) <= 4 + 2


@pytest.mark.slow
async def test_states_and_alarms_arrive_and_resume_replays_without_gaps(runtime: Runtime) -> None:
    ws = await _connect(runtime)
    async with ws:
        subscribed = await _subscribe(ws, twins=["changwon"], kinds=["states", "alarms"])
        stream = subscribed["stream"]
        snapshot = await _recv(ws)
        assert "signals" not in snapshot  # not subscribed to samples
        assert {"changwon.compressor1", "changwon.meter1"} <= set(snapshot["states"])
        first = [m for _, m in await _collect(ws, 1.5)]
    last = _check_chain(first, snapshot["seq"] + 1)
    assert any(m.get("states") for m in first)  # the compressor loads and unloads every ~30 s

    await asyncio.sleep(1.0)  # disconnected while the plant goes on
    ws = await _connect(runtime)
    async with ws:
        await _subscribe(
            ws, twins=["changwon"], kinds=["states", "alarms"], resume_from=last, stream=stream
        )
        resumed = [m for _, m in await _collect(ws, 1.5)]
    assert resumed
    assert resumed[0]["type"] == "frame"
    _check_chain(resumed, last + 1)
    assert runtime.live.ring.head > last

    # From the start of the run: the ring still holds the alarm's activation.
    ws = await _connect(runtime)
    async with ws:
        await _subscribe(ws, twins=["changwon.meter1"], resume_from=0, stream=stream)
        replay = [m for _, m in await _collect(ws, 1.0)]
    _check_chain(replay, 1)
    alarms = [a for m in replay for a in m.get("alarms", [])]
    assert [a["action"] for a in alarms if a["alarm"] == ALWAYS][:1] == ["activate"]
    assert all(a["twin"] == "changwon.meter1" for a in alarms)


@pytest.mark.slow
async def test_a_gap_beyond_the_ring_is_said_and_followed_by_a_snapshot(runtime: Runtime) -> None:
    runtime.live.ring = Ring(max_entries=10, max_samples=1_000_000)
    ws = await _connect(runtime)
    async with ws:
        subscribed = await _subscribe(ws, signals=[PRESSURE])
        await _recv(ws)  # snapshot
    last = subscribed["seq"]
    for _ in range(100):  # until the ring has moved past what the client saw
        if runtime.live.ring.oldest > last + 1:
            break
        await asyncio.sleep(0.05)
    ws = await _connect(runtime)
    async with ws:
        await _subscribe(ws, signals=[PRESSURE], resume_from=last, stream=subscribed["stream"])
        gap = await _recv(ws)
        snapshot = await _recv(ws)
        after = [m for _, m in await _collect(ws, 1.0)]
    assert gap["type"] == "gap"
    assert gap["gap"] is True
    assert gap["missed_from"] == last + 1
    assert gap["missed_to"] >= runtime.live.ring.oldest - 1 >= last + 1
    assert snapshot["type"] == "snapshot"
    assert PRESSURE in snapshot["signals"]
    _check_chain(after, snapshot["seq"] + 1)

    # Another run's numbers mean nothing here: a gap, not a replay of unrelated messages.
    ws = await _connect(runtime)
    async with ws:
        await _subscribe(ws, signals=[PRESSURE], resume_from=1, stream="another-run")
        gap = await _recv(ws)
    assert gap["type"] == "gap"
    assert "another server run" in gap["reason"]


async def _flood(rt: Runtime, seconds: float) -> int:
    """Events of 40 kB at ~200/s through the real bus: records are never decimated.
    Random text: permessage-deflate would shrink a repeated one to nothing."""
    sent = 0
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        for _ in range(10):
            event = Event(
                ts=rt.clock.now_ns(), twin="changwon", kind=EventKind.NOTE, message="x" * 10_000
            )
            await rt.bus.publish(Topic.RECORDS, event)
            sent += 1
        await asyncio.sleep(0.05)
    return sent


async def _stalled_client(rt: Runtime, request: Message) -> asyncio.StreamWriter:
    """A client that subscribes, then never reads: a raw socket with a tiny receive buffer
    (a client library would read ahead, and negotiate compression)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.setblocking(False)
    await asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", rt.settings.port))
    reader, writer = await asyncio.open_connection(sock=sock)
    key = base64.b64encode(secrets.token_bytes(16)).decode()
    writer.write(
        (
            "GET /api/v1/live HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
            f"Authorization: Bearer {rt.admin_token}\r\n"
            "Sec-WebSocket-Version: 13\r\n\r\n"
        ).encode()
    )
    assert (await reader.readuntil(b"\r\n\r\n")).startswith(b"HTTP/1.1 101")
    payload = json.dumps(request).encode()
    assert len(payload) < 126
    mask = secrets.token_bytes(4)
    masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    writer.write(bytes([0x81, 0x80 | len(payload)]) + mask + masked)  # a masked text frame
    await writer.drain()
    return writer  # never read from again


@pytest.mark.slow
async def test_a_stalled_client_slows_neither_the_pipeline_nor_other_clients(
    runtime: Runtime,
) -> None:
    ws = await _connect(runtime)
    runtime.live.send_timeout_s = 1.0
    stalled = await _stalled_client(runtime, {"subscribe": {"max_rate_hz": 50}})  # all, fast
    try:
        async with ws:
            await _subscribe(ws, signals=[PRESSURE], kinds=["samples"], max_rate_hz=5)
            await _recv(ws)
            twin_before = runtime.pipeline.stats.twin_through
            flood = asyncio.create_task(_flood(runtime, 4.0))
            received = await _collect(ws, 4.0)
            sent = await flood
        arrivals = [t for t, _ in received]
        # The demo hands over a batch about every 0.5 s; each reached this client in time.
        assert len(arrivals) >= 5
        assert max(b - a for a, b in itertools.pairwise(arrivals)) < 1.0
        assert runtime.pipeline.stats.twin_through - twin_before > 120 * 10**9  # 4 s at 60x
        assert sent > 400  # the bus never waited long on the live hub
        assert runtime.live.stats.slow_disconnects == 1
        for _ in range(40):  # both sessions end: the stalled one's and the closed one's
            if runtime.live.stats.clients == 0:
                break
            await asyncio.sleep(0.05)
        assert runtime.live.stats.clients == 0
    finally:
        stalled.close()
        with contextlib.suppress(OSError):
            await stalled.wait_closed()


@pytest.mark.slow
async def test_wrong_requests_are_answered_and_change_nothing(runtime: Runtime) -> None:
    ws = await _connect(runtime)
    async with ws:
        await ws.send(json.dumps({"subscribe": {"signals": ["changwon.compressor1/presure"]}}))
        error = await _recv(ws)
        assert error["type"] == "error"
        assert error["where"] == "subscribe.signals[0]"
        assert "did you mean changwon.compressor1/pressure" in error["message"]
        await ws.send(json.dumps({"subscribe": {"max_rate_hz": 500}}))
        error = await _recv(ws)
        assert error["where"] == "subscribe.max_rate_hz"
        await ws.send("[1, 2")
        assert (await _recv(ws))["where"] == "message"
        await _subscribe(ws, twins=["changwon.compressor1"], kinds=["samples"])
        assert (await _recv(ws))["type"] == "snapshot"
    ws = await _connect(runtime, token=False)  # a token in a first `auth` message, then subscribe
    async with ws:
        await ws.send(json.dumps({"auth": {"token": runtime.admin_token}}))
        await _subscribe(ws, signals=[PRESSURE])
    for first in ({"auth": {"token": "pwt_not-a-token"}}, {"subscribe": {"signals": [PRESSURE]}}):
        ws = await _connect(runtime, token=False)  # a wrong token, or none: closed with 4401
        async with ws:
            await ws.send(json.dumps(first))
            with pytest.raises(websockets.ConnectionClosed) as closed:
                await _recv(ws)
        assert closed.value.rcvd is not None
        assert closed.value.rcvd.code == 4401
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{runtime.settings.port}") as http:
        protocol = (await http.get("/api/v1/live/protocol")).json()
        schema = (await http.get("/openapi.json")).json()
    assert protocol["endpoint"] == "/api/v1/live"
    assert {"FrameOut", "GapOut", "SnapshotOut", "SubscribeMessage"} <= set(
        schema["components"]["schemas"]
    )


@pytest.mark.slow
async def test_command_steps_arrive_as_they_happen(runtime: Runtime) -> None:
    mill = "changwon.L1.mill1"
    ws = await _connect(runtime)
    async with ws:
        await _subscribe(ws, twins=[mill], kinds=["commands"])
        assert (await _recv(ws))["commands"] == []  # snapshot: nothing unfinished
        body = {"twin": mill, "command": "set_feed_override", "parameters": {"percent": 110}}
        base = f"http://127.0.0.1:{runtime.settings.port}/api/v1"
        async with httpx.AsyncClient(base_url=base, headers=_auth(runtime)) as http:
            answer = await http.post("/commands", json=body)
        assert answer.status_code in (202, 409), answer.text  # 409: the mill is not idle
        command_id = answer.json()["id"] if answer.status_code == 202 else None
        steps = [c for _, m in await _collect(ws, 1.5) for c in m.get("commands", [])]
    assert steps, "no command step arrived"
    assert all(s["twin"] == mill and s["command"] == "set_feed_override" for s in steps)
    if command_id is not None:
        assert {s["id"] for s in steps} == {command_id}
        assert [s["status"] for s in steps][:2] == ["accepted", "sent"]
    else:
        assert steps[0]["status"] == "rejected"


@pytest.mark.slow
async def test_a_revoked_token_closes_its_open_websocket(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("plantwin.api.live.route.RECHECK_S", 0.2)
    issued = await runtime.accounts.issue("admin", label="live")
    for _ in range(100):
        try:
            ws = await websockets.connect(
                _url(runtime), additional_headers={"Authorization": f"Bearer {issued.secret}"}
            )
            break
        except OSError:
            await asyncio.sleep(0.05)
    async with ws:
        await _subscribe(ws, signals=[PRESSURE])
        await runtime.accounts.revoke(issued.token.id)
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await _drain_until_closed(ws)
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 4401
    assert "revoked" in closed.value.rcvd.reason


async def _drain_until_closed(ws: ClientConnection) -> None:
    while True:  # frames may still be on their way; the close must follow
        await _recv(ws)

"""Rules and alarms in the running twin: webhooks (a real local HTTP server) and restarts."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from plantwin.core.auth import Role
from plantwin.core.records import AlarmEvent, DeadLetter
from plantwin.core.store import RecordQuery
from plantwin.runtime import Runtime, Settings
from tests.conftest import EXAMPLE
from tests.runtime.demo_process import free_port

ALWAYS = "changwon.meter1:site_running"


class Receiver:
    """A webhook endpoint on localhost that records JSON bodies, or fails on purpose."""

    def __init__(self, status: int) -> None:
        self.bodies: list[dict[str, object]] = []
        self.calls = 0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers["content-length"])
                body = json.loads(self.rfile.read(length))
                receiver.calls += 1
                if status < 300:
                    receiver.bodies.append(body)
                self.send_response(status)
                self.end_headers()

            def log_message(self, *_: object) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receivers() -> Iterator[tuple[Receiver, Receiver]]:
    with Receiver(200) as good, Receiver(500) as broken:
        yield good, broken


def _plant(tmp_path: Path, good: str, broken: str) -> Path:
    """The demo plant with an alarm that is active from the start, and two webhooks."""
    text = EXAMPLE.read_text()
    text = text.replace(
        "\nconnectors:\n",
        f"""
notifications:
  control_room: {{url: "{good}", min_priority: high}}
  broken: {{url: "{broken}", retries: 1, timeout: 2}}
  low_only: {{url: "{good}", min_priority: critical}}

connectors:
""",
        1,
    )
    text = text.replace(
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


@pytest.mark.slow
async def test_alarms_reach_webhooks_survive_restarts_and_failures_are_dead_letters(
    tmp_path: Path, receivers: tuple[Receiver, Receiver]
) -> None:
    good, broken = receivers
    plant = _plant(tmp_path, good.url, broken.url)
    settings = Settings(
        plant=plant,
        store=str(tmp_path / "a.duckdb"),
        port=free_port(),
        opcua_port=free_port(),
        demo=True,
        speed=60.0,
    )
    async with Runtime(settings) as runtime:
        await runtime.serve(duration=3.0)
        point = runtime.rules.board.points[ALWAYS]
        assert point.active
        activations = [
            r
            for r in await runtime.store.records(RecordQuery(kind=AlarmEvent, limit=10_000))
            if isinstance(r, AlarmEvent) and r.alarm == ALWAYS
        ]
        letters = [
            r
            for r in await runtime.store.records(RecordQuery(kind=DeadLetter))
            if isinstance(r, DeadLetter)
        ]
    assert [e.action for e in activations] == ["activate"]
    mine = [b for b in good.bodies if b["alarm"] == ALWAYS]
    assert len(mine) == 1  # control_room only: low_only wants critical alarms
    assert mine[0]["action"] == "activate"
    assert mine[0]["priority"] == "high"
    assert mine[0]["state"] == "unacknowledged"
    assert "Main incomer" in str(mine[0]["message"])
    assert all(b["priority"] in ("high", "critical") for b in good.bodies)
    # The broken endpoint was tried twice per event (one retry), then dead-lettered.
    broken_letters = [d for d in letters if d.source == "webhook:broken"]
    assert broken_letters
    assert broken.calls == 2 * len(broken_letters)
    assert "2 attempts failed; last: HTTP 500" in broken_letters[0].reason
    assert json.loads(broken_letters[0].raw)["alarm"]

    # A restart resumes the alarm as it was: still active and unacknowledged, not raised again.
    good.bodies.clear()
    settings = Settings(
        plant=plant,
        store=str(tmp_path / "a.duckdb"),
        port=free_port(),
        opcua_port=free_port(),
        demo=True,
        speed=60.0,
    )
    async with Runtime(settings) as runtime:
        point = runtime.rules.board.points[ALWAYS]
        assert (point.active, point.acked) == (True, False)
        await runtime.serve(duration=1.5)
        after = [
            r
            for r in await runtime.store.records(RecordQuery(kind=AlarmEvent, limit=10_000))
            if isinstance(r, AlarmEvent) and r.alarm == ALWAYS
        ]
    assert [e.action for e in after] == ["activate"]
    assert not [b for b in good.bodies if b["alarm"] == ALWAYS]


@pytest.mark.slow
async def test_an_acknowledgement_is_stored_at_once(tmp_path: Path) -> None:
    """An operator action through the API reaches the store without waiting for a tick."""
    plant = _plant(tmp_path, "http://127.0.0.1:9/none", "http://127.0.0.1:9/none")
    port = free_port()
    settings = Settings(
        plant=plant,
        store=str(tmp_path / "ack.duckdb"),
        port=port,
        opcua_port=free_port(),
        demo=True,
        speed=60.0,
    )
    async with Runtime(settings) as runtime:
        runtime.pipeline.tick_s = 30.0  # a tick would come far too late to carry the ack
        serving = asyncio.create_task(runtime.serve())
        try:
            await runtime.accounts.add_user("kim", Role.OPERATOR)
            token = (await runtime.accounts.issue("kim")).secret
            headers = {"Authorization": f"Bearer {token}"}
            async with httpx.AsyncClient(
                base_url=f"http://127.0.0.1:{port}", headers=headers
            ) as http:
                for _ in range(100):  # until the always-active alarm is up
                    body = (await http.get(f"/api/v1/alarms/{ALWAYS}")).json()
                    if body.get("state") == "unacknowledged":
                        break
                    await asyncio.sleep(0.1)
                acked = await http.post(f"/api/v1/alarms/{ALWAYS}/ack", json={"reason": "seen"})
                assert acked.status_code == 200, acked.text
            start = time.monotonic()
            found: list[AlarmEvent] = []
            while time.monotonic() - start < 5 and not found:
                await asyncio.sleep(0.05)
                found = [
                    r
                    for r in await runtime.store.records(RecordQuery(kind=AlarmEvent))
                    if isinstance(r, AlarmEvent) and r.action == "ack"
                ]
            waited = time.monotonic() - start
        finally:
            runtime.stop.set()
            await serving
    assert found, "the acknowledgement was not stored"
    assert found[0].user == "kim"
    assert waited < 2.0  # record writer flushes every 0.25 s; a tick would take 30 s

"""Start `plantwin demo` as a real process and talk to its API."""

from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

ADMIN_TOKEN = re.compile(r"^admin token: (\S+)$", re.MULTILINE)

# Every demo started here, so a test that fails half-way does not leave one running
# (tests/runtime/conftest.py kills what is left after each test).
STARTED: list[DemoProcess] = []


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class DemoProcess:
    def __init__(self, store: Path, *args: str) -> None:
        self.port = free_port()
        self.log = store.with_suffix(f".{self.port}.log")
        self._out = self.log.open("w")
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "plantwin",
                "demo",
                "--port",
                str(self.port),
                "--store",
                str(store),
                "--opcua-port",
                str(free_port()),
                "--no-train-models",  # these tests are about the demo's own process
                *args,
            ],
            stdout=self._out,
            stderr=subprocess.STDOUT,
        )
        self.started = time.monotonic()
        STARTED.append(self)

    def admin_token(self) -> str:
        """The token `plantwin demo` printed at start (it prints one when none is given)."""
        found = ADMIN_TOKEN.findall(self.output())
        assert len(found) == 1, f"expected one printed admin token:\n{self.output()}"
        return str(found[0])

    def get(self, path: str, *, token: str | None = None) -> Any:
        """GET as the printed admin (health is public and goes without a token)."""
        request = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}")
        if not path.startswith("/api/v1/health"):
            request.add_header("Authorization", f"Bearer {token or self.admin_token()}")
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - our URL
            return json.load(response)

    def wait_up(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"demo exited early:\n{self.output()}")
            try:
                self.get("/api/v1/health")
                return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.2)
        raise AssertionError(f"demo did not answer within {timeout} s:\n{self.output()}")

    def wait_for(self, predicate: Any, timeout: float, what: str) -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            health = self.get("/api/v1/health")
            if predicate(health):
                return health
            time.sleep(0.2)
        raise AssertionError(f"timed out waiting for {what}:\n{self.output()}")

    def output(self) -> str:
        if not self._out.closed:
            self._out.flush()
        return self.log.read_text()

    def finish(self, timeout: float) -> int:
        try:
            return self.proc.wait(timeout)
        finally:
            self._out.close()

    def kill(self) -> None:
        self.proc.kill()
        self.proc.wait(10)
        self._out.close()


def kill_leftovers() -> list[int]:
    """Kill the demos a test started and left running; their pids."""
    left = [demo for demo in STARTED if demo.proc.poll() is None]
    STARTED.clear()
    for demo in left:
        demo.kill()
    return [demo.proc.pid for demo in left]

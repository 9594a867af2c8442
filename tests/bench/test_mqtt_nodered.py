"""The Node-RED contender's process handling, with a stand-in for red.js (node only)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from bench import mqtt_ingest, mqtt_nodered

# Serves the counts like the bench flow, and (like a Node-RED stuck in a close handler)
# ignores SIGTERM.
STUBBORN = """\
const fs = require("fs"), http = require("http"), path = require("path");
const settings = require(path.resolve(process.argv[process.argv.indexOf("--settings") + 1]));
fs.writeFileSync(process.env.PWB_PID_FILE, String(process.pid));
process.on("SIGTERM", () => {});
const connected = Number(process.env.PWB_CONNECTED);
const counts = {messages: 1, samples: 1e9, bad: 0, not_qos1: 0, first: 5, last: 5, connected};
http.createServer((req, res) => res.end(JSON.stringify(counts))).listen(settings.uiPort);
"""


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not on PATH")
def test_a_node_red_ignoring_sigterm_is_killed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    red = tmp_path / "red.js"
    red.write_text(STUBBORN)
    pid_file = tmp_path / "pid"
    monkeypatch.setenv("PWB_PID_FILE", str(pid_file))
    monkeypatch.setenv("PWB_CONNECTED", "1")
    monkeypatch.setattr(mqtt_nodered, "STOP_GRACE", 0.5)
    state = mqtt_nodered.received(red, 1, "t/#", "c", 0, mqtt_ingest.free_port(), None)
    assert state["connected"] == 1
    with pytest.raises(ProcessLookupError):
        os.kill(int(pid_file.read_text()), 0)


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not on PATH")
@pytest.mark.parametrize("expected", [0, 10])
def test_no_connection_time_is_an_error_not_a_rate(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, expected: int
) -> None:
    """Without the mqtt-in's "connected" status (its text differs in another Node-RED
    version) the rate would run from 1970: Node-RED at nearly 0 messages/s."""
    red = tmp_path / "red.js"
    red.write_text(STUBBORN)
    monkeypatch.setenv("PWB_PID_FILE", str(tmp_path / "pid"))
    monkeypatch.setenv("PWB_CONNECTED", "0")
    monkeypatch.setattr(mqtt_nodered, "STOP_GRACE", 0.5)
    monkeypatch.setattr(mqtt_nodered, "START_TIMEOUT", 1.0)
    with pytest.raises(RuntimeError, match="did not report connected"):
        mqtt_nodered.received(red, 1, "t/#", "c", expected, mqtt_ingest.free_port(), None)

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
const counts = {messages: 0, samples: 0, bad: 0, not_qos1: 0, first: 0, last: 0, connected: 1};
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
    monkeypatch.setattr(mqtt_nodered, "STOP_GRACE", 0.5)
    state = mqtt_nodered.received(red, 1, "t/#", "c", 0, mqtt_ingest.free_port(), None)
    assert state["connected"] == 1
    with pytest.raises(ProcessLookupError):
        os.kill(int(pid_file.read_text()), 0)

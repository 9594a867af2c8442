"""Node-RED as a contender of the MQTT bench: mqtt-in (QoS 1) -> function that parses and counts.

Node-RED is what many plants use for this job, so issue 3 asks plantwin to receive single-sample
messages at least as fast. :func:`install` puts a pinned Node-RED into a cache directory outside
the repository (``npm install --prefix``), once; :func:`run_node_red` measures it like the bare
paho subscriber of :mod:`bench.mqtt_ingest`: the broker queues every message for a persistent
session first, then Node-RED (headless: no editor, a generated settings file and flow) connects
with that client id, and the rate is messages over the time from its connection (a status node
on the mqtt-in node) to the last message counted. The flow's ``GET /bench`` returns the counts.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

VERSION = "4.1.15"  # the newest Node-RED 4 on 2026-11-27
STOP_GRACE = 30.0  # seconds Node-RED gets to stop on SIGTERM before it is killed
START_TIMEOUT = 60.0  # seconds to serve /bench and to report connected

# The function node: parse (like the bare subscriber: json per message, count numeric values),
# and keep first/last times; msg.qos is checked so a QoS 0 subscription cannot pass unnoticed.
COUNT = """\
const s = global.get("bench");
const now = Date.now();
let doc;
try { doc = JSON.parse(msg.payload); } catch (e) { s.bad += 1; return null; }
const records = Array.isArray(doc) ? doc : [doc];
let n = 0;
for (const r of records) { if (typeof r.value === "number") n += 1; }
if (!s.first) s.first = now;
s.last = now;
s.messages += 1;
s.samples += n;
if (msg.qos !== 1) s.not_qos1 += 1;
return null;
"""
INIT = (
    'global.set("bench", {messages: 0, samples: 0, bad: 0, not_qos1: 0, '
    "first: 0, last: 0, connected: 0});"
)
# Status "connected" of the mqtt-in node: the first one is the connection time.
CONNECTED = """\
const s = global.get("bench");
if (!s.connected && /(^|\\.)connected$/.test(String(msg.status.text))) s.connected = Date.now();
return null;
"""
SETTINGS = """\
module.exports = {{
    uiHost: "127.0.0.1",
    uiPort: {port},
    flowFile: "flows.json",
    credentialSecret: false,
    httpAdminRoot: false,
    httpNodeRoot: "/",
    logging: {{console: {{level: "warn", metrics: false, audit: false}}}},
    telemetry: {{enabled: false, updateNotification: false}},
    diagnostics: {{enabled: false}},
    externalModules: {{autoInstall: false, palette: {{allowInstall: false}}}},
}};
"""


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "plantwin-bench" / "node-red"


def install(version: str = VERSION, prefix: Path | None = None) -> Path | str:
    """Node-RED's ``red.js`` (installed with npm on first use), or why it cannot run."""
    prefix = prefix or cache_dir() / version
    red = prefix / "node_modules" / "node-red" / "red.js"
    if shutil.which("node") is None:
        return "node is not on PATH"
    if red.exists():
        return red
    npm = shutil.which("npm")
    if npm is None:
        return "npm is not on PATH"
    prefix.mkdir(parents=True, exist_ok=True)
    print(f"installing node-red@{version} into {prefix} (npm, once)", flush=True)
    done = subprocess.run(
        [
            *(npm, "install", "--prefix", str(prefix)),
            *("--no-audit", "--no-fund", "--omit=dev", f"node-red@{version}"),
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if done.returncode or not red.exists():
        tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
        return f"npm install node-red@{version} failed: {' / '.join(tail)}"
    return red


def flow(port: int, topic: str, client_id: str) -> list[dict[str, Any]]:
    """mqtt-in (QoS 1, persistent session ``client_id``) -> count; status -> connected; GET."""
    tab = "pwb-tab"  # ids unlike any property value: Node-RED links those
    return [
        {"id": tab, "type": "tab", "label": "bench"},
        {
            "id": "pwb-broker",
            "type": "mqtt-broker",
            "broker": "127.0.0.1",
            "port": str(port),
            "clientid": client_id,
            "autoConnect": True,
            "usetls": False,
            "protocolVersion": "4",
            "keepalive": "60",
            "cleansession": False,
            "autoUnsubscribe": False,
        },
        {
            "id": "pwb-in",
            "type": "mqtt in",
            "z": tab,
            "topic": topic,
            "qos": "1",
            "datatype": "utf8",
            "broker": "pwb-broker",
            "inputs": 0,
            "wires": [["pwb-count"]],
        },
        {
            "id": "pwb-count",
            "type": "function",
            "z": tab,
            "func": COUNT,
            "initialize": INIT,
            "outputs": 0,
            "wires": [],
        },
        {
            "id": "pwb-status",
            "type": "status",
            "z": tab,
            "scope": ["pwb-in"],
            "wires": [["pwb-conn"]],
        },
        {
            "id": "pwb-conn",
            "type": "function",
            "z": tab,
            "func": CONNECTED,
            "outputs": 0,
            "wires": [],
        },
        {
            "id": "pwb-get",
            "type": "http in",
            "z": tab,
            "url": "/bench",
            "method": "get",
            "wires": [["pwb-read"]],
        },
        {
            "id": "pwb-read",
            "type": "function",
            "z": tab,
            "func": 'msg.payload = global.get("bench"); return msg;',
            "outputs": 1,
            "wires": [["pwb-response"]],
        },
        {"id": "pwb-response", "type": "http response", "z": tab, "wires": []},
    ]


def counts(http_port: int) -> dict[str, int] | None:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{http_port}/bench", timeout=2) as r:
            out: dict[str, int] = json.loads(r.read())
            return out
    except (OSError, urllib.error.URLError, ValueError):
        return None


def received(
    red: Path,
    broker_port: int,
    topic: str,
    client_id: str,
    expected: int,
    http_port: int,
    preexec: Callable[[], None] | None,
) -> dict[str, int]:
    """Start Node-RED, wait until ``expected`` samples were counted (or 10 s idle), stop it.

    ``expected`` 0: only connect and subscribe, making the persistent session the broker then
    queues for (at the QoS Node-RED subscribed with: QoS 0 messages are not queued, and would
    show as lost).
    """
    workdir = Path(tempfile.mkdtemp(prefix="plantwin-node-red-"))
    (workdir / "settings.js").write_text(SETTINGS.format(port=http_port))
    (workdir / "flows.json").write_text(json.dumps(flow(broker_port, topic, client_id)))
    log = (workdir / "node-red.log").open("w")
    proc = subprocess.Popen(
        ["node", str(red), "--userDir", str(workdir), "--settings", str(workdir / "settings.js")],
        stdout=log,
        stderr=subprocess.STDOUT,
        preexec_fn=preexec,  # noqa: PLW1509  # only sets the CPU affinity
    )
    try:
        state = None
        deadline = time.monotonic() + START_TIMEOUT
        while state is None and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.1)
            state = counts(http_port)
        if state is None:
            log.flush()
            raise RuntimeError(
                f"node-red did not serve /bench: {(workdir / 'node-red.log').read_text()[-800:]}"
            )
        if not expected:  # only make the persistent session: connected and subscribed
            while not state["connected"] and time.monotonic() < deadline:
                time.sleep(0.1)
                state = counts(http_port) or state
            time.sleep(1.0)  # SUBACK
            return _connected(state, workdir)
        idle_since, seen = time.monotonic(), -1
        while state["samples"] < expected:
            time.sleep(0.1)
            state = counts(http_port) or state
            if state["samples"] != seen:
                seen, idle_since = state["samples"], time.monotonic()
            elif time.monotonic() - idle_since > 10:
                break
        time.sleep(0.5)  # duplicates (QoS 1 redelivery) would show as samples above expected
        return _connected(counts(http_port) or state, workdir)
    finally:
        stop(proc)
        log.close()
        shutil.rmtree(workdir, ignore_errors=True)


def _connected(state: dict[str, int], workdir: Path) -> dict[str, int]:
    """The counts, when the mqtt-in reported its connection: the rate's start (0 would make
    it run from 1970 and Node-RED look nearly idle)."""
    if not state["connected"]:
        raise RuntimeError(
            "node-red's mqtt-in did not report connected (no status text ending in "
            f"'connected'): {(workdir / 'node-red.log').read_text()[-800:]}"
        )
    return state


def stop(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM, then SIGKILL after ``STOP_GRACE`` s: a Node-RED left running would go on
    using a CPU and reconnecting with the client id the next run connects with."""
    proc.terminate()
    try:
        proc.wait(STOP_GRACE)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()

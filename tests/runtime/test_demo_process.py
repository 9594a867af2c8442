"""`plantwin demo` as users run it: a real process, real port, real DuckDB file."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
import urllib.error
from pathlib import Path

import duckdb
import pytest

from plantwin.model.plant import Plant, TwinKind
from tests.conftest import EXAMPLE
from tests.runtime.demo_process import DemoProcess, free_port

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def _assets(tree: dict[str, object]) -> set[str]:
    found: set[str] = set()
    stack = list(tree["roots"])  # type: ignore[call-overload]
    while stack:
        node = stack.pop()
        if node["kind"] == "asset":
            found.add(node["id"])
        stack.extend(node["children"])
    return found


def test_demo_serves_live_state_and_history_within_30_seconds(
    tmp_path: Path, example_plant: Plant
) -> None:
    demo = DemoProcess(tmp_path / "demo.duckdb")
    demo.wait_up()
    power = "/api/v1/twins/changwon.meter1"
    first = demo.get(power)["signals"][0]
    with pytest.raises(urllib.error.HTTPError) as refused:
        demo.get(power, token="pwt_not-the-printed-one")
    refused.value.close()  # the error holds the response's socket
    assert refused.value.code == 401
    assert _assets(demo.get("/api/v1/twins")) == {
        t.id for t in example_plant.twins.values() if t.kind is TwinKind.ASSET
    }
    vibration = (
        "/api/v1/twins/changwon.L1.mill1.spindle/history?signal=vibration&start=-1h&every=1m"
    )
    # Ten minutes of history need ten seconds at 60x: wait for them (and for the meter to
    # move on) up to 30 s after the start, not for a fixed 30 s.
    deadline = demo.started + 30
    while True:
        history, later = demo.get(vibration), demo.get(power)["signals"][0]
        if history["rows"] >= 10 and later["time"] != first["time"]:
            break
        if time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert history["rows"] >= 10  # 30 s at 60x would be 30 simulated minutes
    assert all(c > 0 for c in history["count"])
    assert len(history["mean"]) == history["rows"]
    assert later["time"] != first["time"]  # the twin is live
    demo.proc.send_signal(signal.SIGTERM)
    assert demo.finish(timeout=30) == 0
    output = demo.output()
    assert "plantwin: Changwon machining demo" in output
    assert "committed" in output


def test_sigkill_during_ingestion_loses_no_committed_sample_and_duplicates_none(
    tmp_path: Path,
) -> None:
    store = tmp_path / "crash.duckdb"
    demo = DemoProcess(store)
    demo.wait_up()
    # Let a simulator snapshot land (held back until its readings are committed), then kill.
    time.sleep(14)
    health = demo.wait_for(
        lambda h: h["details"]["store"]["committed_samples"] > 20_000, 30, "commits"
    )
    committed = health["details"]["store"]["committed_samples"]
    demo.kill()

    with duckdb.connect(str(store), read_only=True) as con:
        before = con.execute("SELECT count(*), max(ts) FROM samples").fetchone()
        assert before is not None
        assert before[0] >= committed
        con.execute("CREATE TEMP TABLE before AS SELECT signal, ts, value FROM samples")
        con.execute(f"COPY before TO '{tmp_path / 'before.parquet'}' (FORMAT parquet)")

    again = DemoProcess(store, "--duration", "10")
    again.wait_up()
    # The restart replays from the snapshot: readings already stored arrive again and are dropped.
    again.wait_for(
        lambda h: h["details"]["store"]["duplicates_dropped"] > 0, 20, "replayed duplicates"
    )
    assert again.finish(timeout=40) == 0, again.output()

    with duckdb.connect(str(store), read_only=True) as con:
        missing = con.execute(
            f"SELECT count(*) FROM read_parquet('{tmp_path / 'before.parquet'}') b "
            "ANTI JOIN samples s ON s.signal = b.signal AND s.ts = b.ts AND s.value = b.value"
        ).fetchone()
        duplicated = con.execute(
            "SELECT count(*) FROM (SELECT signal, ts FROM samples GROUP BY ALL HAVING count(*) > 1)"
        ).fetchone()
        after = con.execute("SELECT count(*), max(ts) FROM samples").fetchone()
    assert missing == (0,)
    assert duplicated == (0,)
    assert after is not None
    assert after[0] > before[0]
    assert after[1] > before[1]


def test_sigterm_stops_cleanly_and_commits_what_was_read(tmp_path: Path) -> None:
    store = tmp_path / "term.duckdb"
    demo = DemoProcess(store)
    demo.wait_up()
    demo.wait_for(lambda h: h["details"]["pipeline"]["samples"] > 1000, 30, "samples")
    demo.proc.send_signal(signal.SIGTERM)
    assert demo.finish(timeout=30) == 0, demo.output()
    with duckdb.connect(str(store), read_only=True) as con:
        rows = con.execute("SELECT count(*) FROM samples").fetchone()
        events = con.execute("SELECT list(message ORDER BY ts) FROM events").fetchone()
    assert rows is not None
    assert rows[0] > 1000
    assert events == (["started", "stopped"],)


def test_run_serves_a_plant_without_the_simulator(tmp_path: Path) -> None:
    port = free_port()
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "plantwin",
            "run",
            str(EXAMPLE),
            "--port",
            str(port),
            "--store",
            str(tmp_path / "run.duckdb"),
            "--duration",
            "3",
            "--admin-token",
            "a-chosen-admin-token-for-run",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert (
        "connector demo not started: demo connectors run only under 'plantwin demo'" in proc.stdout
    )
    # A given token is not printed (nor any other).
    assert "admin token" not in proc.stdout
    assert "a-chosen-admin-token-for-run" not in proc.stdout + proc.stderr


def test_a_taken_port_is_a_clear_error(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "plantwin",
                "demo",
                "--port",
                str(port),
                "--store",
                str(tmp_path / "p.duckdb"),
                "--opcua-port",
                str(free_port()),
                "--duration",
                "5",
            ],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert proc.returncode == 1
    assert (
        f"cannot listen on 127.0.0.1:{port}: Address already in use; choose another with --port"
        in proc.stderr
    )


def test_an_unusable_snapshot_starts_the_line_afresh(tmp_path: Path) -> None:
    store = tmp_path / "old.duckdb"
    first = DemoProcess(store, "--duration", "2")
    assert first.finish(timeout=60) == 0, first.output()
    with duckdb.connect(str(store)) as con:
        con.execute("UPDATE meta SET value = 'not a snapshot'::BLOB WHERE key = 'demo.snapshot'")
    again = DemoProcess(store, "--duration", "3")
    assert again.finish(timeout=60) == 0, again.output()
    assert "demo snapshot not resumed" in again.output()
    assert "the line starts afresh" in again.output()


def test_a_taken_opcua_port_is_a_clear_error(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "plantwin",
                "demo",
                "--port",
                str(free_port()),
                "--opcua-port",
                str(port),
                "--store",
                str(tmp_path / "o.duckdb"),
                "--duration",
                "5",
            ],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert proc.returncode == 1
    assert proc.stderr.strip() == (
        f"error: cannot listen on 127.0.0.1:{port} for the demo OPC UA server: "
        "Address already in use; choose another with --opcua-port"
    )

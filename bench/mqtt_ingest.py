"""MQTT ingest end to end (publish -> stored), next to a bare paho-mqtt subscriber.

Run: .venv/bin/python -m bench.mqtt_ingest [--messages 100000] [--publishers 2] [--seconds 10]
     [--client paho|mosquitto_sub]  (plantwin's receiving client; see msub.py)

A Mosquitto of the benchmark's own (free port, no queue limits, so a slow subscriber shows as
time rather than as broker drops) gets QoS 1 JSON messages from publisher processes over 1,000
topics (100 machines x 10 signals). Each figure is measured twice in this run, on the same
broker with the same publishers:

- bare: a paho-mqtt subscriber process that only parses each message and counts its samples;
- plantwin: the real runtime (``Runtime`` with an ``mqtt`` connector: paho network thread ->
  JSON decode -> ingest -> bus -> twin -> DuckDB), until every sample is committed;
- Node-RED (``--node-red``, throughput only; see mqtt_nodered.py): mqtt-in at QoS 1 -> a
  function node that parses and counts, installed with npm into ~/.cache on first use.

Throughput (drain): the broker first queues every message for the subscriber's persistent
session (single-sample, then 50-sample messages); then the subscriber connects, and the rate
is samples (or messages) over the time from its connection to the last sample parsed (bare)
or committed to DuckDB (plantwin, after its final flush). Publishers are then not the limit.
Latency: a steady 10,000 samples/s (as 1-sample and as 50-sample messages) from mosquitto_pub
processes fed line by line, each record's ``ts`` the time it was written; plantwin's latency
is taken when the twin applies the sample (the live state), bare's when it is parsed.

The subscriber side (this process, the bare subscriber, Node-RED) is pinned to the first CPU,
the broker and the publishers to the others when there are any (``--no-pin``: all on all).
``--rounds N`` repeats the throughput runs, the contenders' order turning each round.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from bench import mqtt_nodered
from bench.common import emit
from plantwin.connectors.mqtt import MqttConnector
from plantwin.connectors.mqtt.workers import MqttWorkers
from plantwin.core.samples import SampleBatch
from plantwin.runtime import Runtime, Settings
from plantwin.twin.state import TwinUpdate

PLANT = """\
plantwin: 1
name: mqtt bench
connectors:
  broker:
    kind: mqtt
    port: {port}
    client_id: {client_id}
    clean_session: {clean}
    protocol: "{protocol}"
    ack: {ack}
    subscribe: ["{prefix}/#"]
    payload: {{ts_unit: ns}}
    workers: {workers}
    client: {client}
types:
  machine:
    signals:
{signals}
    bindings:
      "*": {{connector: broker, address: "{prefix}/{{asset}}/{{signal}}"}}
sites:
  s:
    lines:
      L:
        assets:
{assets}
"""


# The CPUs when first asked, before main() pins this process to the subscriber's (asked later,
# sched_getaffinity would return only that one, and the publishers would land on it too).
_CPUS: list[int] | None = None
PIN = True  # False (--no-pin): every process may use every CPU


def cpus() -> tuple[set[int], set[int]]:
    """(subscriber CPUs, broker and publisher CPUs)."""
    global _CPUS  # noqa: PLW0603
    if not hasattr(os, "sched_getaffinity"):
        return set(), set()
    if _CPUS is None:
        _CPUS = sorted(os.sched_getaffinity(0))
    if len(_CPUS) < 2 or not PIN:
        return set(_CPUS), set(_CPUS)
    return {_CPUS[0]}, set(_CPUS[1:])


def pinned(cores: set[int]) -> Callable[[], None] | None:
    if not cores or not hasattr(os, "sched_setaffinity"):
        return None
    return lambda: os.sched_setaffinity(0, cores)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Broker:
    def __init__(self, workdir: Path, cores: set[int], inflight: int = 0) -> None:
        binary = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
        self.port = free_port()
        conf = workdir / "mosquitto.conf"
        conf.write_text(
            f"listener {self.port} 127.0.0.1\nallow_anonymous true\n"
            f"max_queued_messages 0\nmax_inflight_messages {inflight}\nmax_queued_bytes 0\n"
        )
        self.process = subprocess.Popen(
            [binary, "-c", str(conf)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            preexec_fn=pinned(cores),  # noqa: PLW1509  # only sets the CPU affinity
        )
        time.sleep(0.5)

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(10)


def start_publishers(
    port: int, prefix: str, messages: int, per: int, rate: float, count: int, cores: set[int]
) -> list[subprocess.Popen[str]]:
    if rate > 0:  # steady: one pacer feeding mosquitto_pub processes
        args = ["lines", str(port), prefix, str(messages), str(per), str(rate)]
        return [
            subprocess.Popen(
                [sys.executable, "-m", "bench.mqtt_clients", *args],
                stdout=subprocess.PIPE,
                text=True,
                preexec_fn=pinned(cores),  # noqa: PLW1509
            )
        ]
    return [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "bench.mqtt_clients",
                "publish",
                str(port),
                prefix,
                str(messages // count),
                str(per),
                str(rate / count),
                str(i),
            ],
            stdout=subprocess.PIPE,
            text=True,
            preexec_fn=pinned(cores),  # noqa: PLW1509
        )
        for i in range(count)
    ]


def finish(publishers: list[subprocess.Popen[str]]) -> dict[str, int]:
    outs = [json.loads(p.communicate(timeout=600)[0].strip().splitlines()[-1]) for p in publishers]
    return {
        "published": sum(o["published"] for o in outs),
        "acked": sum(o["acked"] for o in outs),
        "start": min(o["start"] for o in outs),
        "end": max(o["end"] for o in outs),
    }


def bare_process(
    port: int, prefix: str, expected: int, client_id: str, share: str = "", mode: str = "bare"
) -> dict[str, Any]:
    sub_cores, _ = cpus()
    sub = subprocess.Popen(
        [
            *(sys.executable, "-m", "bench.mqtt_clients", mode),
            *(str(port), f"{share}{prefix}/#", str(expected), client_id),
        ],
        stdout=subprocess.PIPE,
        text=True,
        preexec_fn=pinned(sub_cores),  # noqa: PLW1509
    )
    assert sub.stdout is not None
    ready = sub.stdout.readline().strip()
    # Not communicate(timeout=...): it reads the raw pipe and would miss what readline buffered.
    lines = sub.stdout.read().strip().splitlines()
    sub.wait(600)
    if ready != "ready" or not lines:
        # The child's traceback went to stderr above; say which step failed instead of IndexError.
        raise RuntimeError(
            f"bare subscriber {client_id or '(clean)'} on {share}{prefix}/# exited "
            f"{sub.returncode} after printing {ready!r} and {len(lines)} result lines"
        )
    result: dict[str, Any] = json.loads(lines[-1])
    return result


def run_bare(
    port: int,
    prefix: str,
    messages: int,
    per: int,
    rate: float,
    args: argparse.Namespace,
    mode: str = "bare",
) -> dict[str, Any]:
    """Live (rate > 0): subscribe, publish, count. Drain (rate 0): queue everything first."""
    _, pub_cores = cpus()
    client_id = f"bare-{prefix}" if rate == 0 else ""
    if rate == 0:
        bare_process(port, prefix, 0, client_id, mode=mode)  # the persistent session to fill
        published = finish(
            start_publishers(port, prefix, messages, per, 0, args.publishers, pub_cores)
        )
        result = bare_process(port, prefix, messages * per, client_id, mode=mode)
        start = result["connected"]
    else:
        pubs: list[subprocess.Popen[str]] = []
        with ThreadPoolExecutor(1) as pool:
            running = pool.submit(bare_process, port, prefix, messages * per, client_id, "", mode)
            time.sleep(1.0)  # subscribed ("ready") well before this
            pubs = start_publishers(port, prefix, messages, per, rate, args.publishers, pub_cores)
            published = finish(pubs)
            result = running.result()
        start = published["start"]
    seconds = (result["last"] - start) / 1e9
    return {
        "messages": result["messages"],
        "samples": result["samples"],
        "lost": published["published"] * per - result["samples"],
        "seconds": seconds,
        "msg_per_s": result["messages"] / seconds,
        "samples_per_s": result["samples"] / seconds,
        "publish_msg_per_s": published["published"]
        / ((published["end"] - published["start"]) / 1e9),
        "latency_p50_ms": result["latency_p50_ms"] if rate else None,
        "latency_p99_ms": result["latency_p99_ms"] if rate else None,
    }


def run_node_red(
    port: int, prefix: str, messages: int, per: int, args: argparse.Namespace, red: Path
) -> dict[str, Any]:
    """Like :func:`run_bare` (drain), with Node-RED's mqtt-in -> function receiving."""
    sub_cores, pub_cores = cpus()
    client_id = f"nodered-{prefix}"
    topic, pin = f"{prefix}/#", pinned(sub_cores)
    mqtt_nodered.received(red, port, topic, client_id, 0, free_port(), pin)  # its session
    published = finish(start_publishers(port, prefix, messages, per, 0, args.publishers, pub_cores))
    result = mqtt_nodered.received(red, port, topic, client_id, messages * per, free_port(), pin)
    seconds = (result["last"] - result["connected"]) / 1e3  # Date.now(): milliseconds
    return {
        "messages": result["messages"],
        "samples": result["samples"],
        "lost": published["published"] * per - result["samples"],
        "not_qos1": result["not_qos1"],
        "seconds": seconds,
        "msg_per_s": result["messages"] / seconds,
        "samples_per_s": result["samples"] / seconds,
        "publish_msg_per_s": published["published"]
        / ((published["end"] - published["start"]) / 1e9),
    }


def write_plant(
    workdir: Path,
    port: int,
    client_id: str,
    prefix: str,
    *,
    persistent: bool,
    workers: int,
    protocol: str = "3.1.1",
    ack: str = "received",
    client: str = "paho",
) -> Path:
    signals = "".join(f"      s{j}: {{unit: kW}}\n" for j in range(10))
    assets = "".join(f"          m{i:03d}: {{type: machine}}\n" for i in range(100))
    plant = workdir / "plant.yaml"
    text = PLANT.format(
        port=port,
        client_id=client_id,
        clean="false" if persistent else "true",
        workers=workers,
        protocol=protocol,
        ack=ack,
        client=client,
        prefix=prefix,
        signals=signals,
        assets=assets,
    )
    plant.write_text(text)
    return plant


def prepare_sessions(port: int, prefix: str, client_id: str, workers: int) -> None:
    """The persistent session(s) the broker fills before plantwin connects."""
    if workers:  # each worker's session, in the shared group
        for i in range(workers):
            bare_process(port, prefix, 0, f"{client_id}-w{i}", "$share/plantwin-broker/")
    else:
        bare_process(port, prefix, 0, client_id)


async def wait_ingested(runtime: Runtime, expected: int) -> None:
    """Until ``expected`` samples passed ingest, or none came for 10 s (some were lost)."""
    stats = runtime.pipeline.stats
    idle_since, seen = time.monotonic(), -1
    while stats.samples < expected:
        await asyncio.sleep(0.02)
        if stats.samples != seen:
            seen, idle_since = stats.samples, time.monotonic()
        elif time.monotonic() - idle_since > 10:
            return


async def run_plantwin(
    port: int,
    prefix: str,
    messages: int,
    per: int,
    rate: float,
    args: argparse.Namespace,
    workers: int = 0,
) -> dict[str, Any]:
    """Like :func:`run_bare`, through the real runtime until every sample is committed."""
    _, pub_cores = cpus()
    workdir = Path(tempfile.mkdtemp(prefix="plantwin-mqtt-bench-"))
    client_id = f"bench-{prefix}"
    drain = rate == 0
    ack = args.ack or ("stored" if args.protocol == "5" and args.client == "paho" else "received")
    plant = write_plant(
        workdir,
        port,
        client_id,
        prefix,
        persistent=drain,
        workers=workers,
        protocol=args.protocol,
        ack=ack,
        client=args.client,
    )
    settings = Settings(plant=plant, store=str(workdir / "bench.duckdb"), port=free_port())
    expected = messages * per
    latencies: list[np.ndarray[Any, np.dtype[np.int64]]] = []
    pubs: list[subprocess.Popen[str]] = []
    published: dict[str, int] = {}
    if drain:
        await asyncio.to_thread(prepare_sessions, port, prefix, client_id, workers)
        pubs = start_publishers(port, prefix, messages, per, 0, args.publishers, pub_cores)
        published = await asyncio.to_thread(finish, pubs)
    start = time.time_ns()
    try:
        async with Runtime(settings) as runtime:
            twin = runtime.twin
            apply = twin.apply

            def timed(batch: SampleBatch) -> TwinUpdate:
                update = apply(batch)
                latencies.append(time.time_ns() - batch.ts)
                return update

            setattr(twin, "apply", timed)  # noqa: B010  # measure when the live state changes
            connector = runtime.connectors[0]
            if drain:  # from the first connection, like the bare client's CONNACK time
                if isinstance(connector, MqttConnector):
                    start = connector.session.connected_at or start
                elif isinstance(connector, MqttWorkers):
                    start = connector.connected_at or start
            serving = asyncio.create_task(runtime.serve())
            if not drain:
                await asyncio.sleep(0.5)
                pubs = start_publishers(
                    port, prefix, messages, per, rate, args.publishers, pub_cores
                )
            await wait_ingested(runtime, expected)
            runtime.stop.set()
            await serving
            stored_at = time.time_ns()
            if not drain:
                published = await asyncio.to_thread(finish, pubs)
                start = published["start"]
            committed = runtime.store.stats().committed_samples
            health = runtime.health()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    seconds = (stored_at - start) / 1e9
    lat = np.concatenate(latencies) if latencies else np.empty(0, np.int64)
    return {
        "messages": health["connectors"][0]["samples"] // per,
        "samples": committed,
        "lost": published["published"] * per - committed,
        "dead_letters": health["pipeline"]["dead_letters"],
        "batches": health["pipeline"]["batches"],
        "seconds": seconds,
        "msg_per_s": committed / per / seconds,
        "samples_per_s": committed / seconds,
        "publish_msg_per_s": published["published"]
        / ((published["end"] - published["start"]) / 1e9),
        "latency_p50_ms": float(np.percentile(lat, 50)) / 1e6 if len(lat) and not drain else None,
        "latency_p99_ms": float(np.percentile(lat, 99)) / 1e6 if len(lat) and not drain else None,
    }


def row(name: str, r: dict[str, Any], latency: bool = False) -> str:
    if latency:
        return (
            f"{name:<34} {r['samples']:>9,} {r['lost']:>6} "
            f"{r['latency_p50_ms']:>9.1f} {r['latency_p99_ms']:>9.1f}"
        )
    return (
        f"{name:<34} {r['messages']:>9,} {r['samples']:>10,} {r['lost']:>6} "
        f"{r['msg_per_s']:>10,.0f} {r['samples_per_s']:>12,.0f} {r['publish_msg_per_s']:>10,.0f}"
    )


def node_red(args: argparse.Namespace) -> Path | None:
    """Node-RED's red.js when asked for and runnable; else None, saying why."""
    if not args.node_red:
        return None
    red = mqtt_nodered.install(args.node_red_version)
    if isinstance(red, str):
        print(f"Node-RED contender skipped: {red}")
        return None
    print(f"Node-RED {args.node_red_version} from {red.parents[2]}")
    return red


def throughput_round(
    port: int, args: argparse.Namespace, rnd: int, red: Path | None, figures: dict[str, Any]
) -> None:
    """Each contender drains the same messages once; the order turns with ``rnd``."""
    sub_cores, pub_cores = cpus()
    runs = [
        ("single", args.messages, 1),
        ("batch50", max(args.messages // 10, 1000) // 1000 * 1000, 50),
    ]
    suffix = f"_r{rnd}" if args.rounds > 1 else ""
    for name, messages, per in runs:
        contenders = ["bare", "plantwin", *(["nodered"] if red else [])]
        turn = rnd % len(contenders)
        got: dict[str, dict[str, Any]] = {}
        for who in contenders[turn:] + contenders[:turn]:
            tag = f"{who}{name}{rnd}"
            if who == "bare":
                got[who] = run_bare(port, tag, messages, per, 0, args)
                label = f"bare paho, {per}-sample JSON"
            elif who == "plantwin":
                got[who] = asyncio.run(run_plantwin(port, tag, messages, per, 0, args))
                label = f"plantwin {args.client}, {per}-sample JSON"
            else:
                assert red is not None
                got[who] = run_node_red(port, tag, messages, per, args, red)
                label = f"Node-RED {args.node_red_version}, {per}-sample JSON"
                if got[who]["not_qos1"]:
                    print(f"  Node-RED got {got[who]['not_qos1']} messages not at QoS 1")
            print(row(label, got[who]), flush=True)
        if per == 1 and args.workers and args.client == "paho":
            # Workers are processes of their own: let them (and this one) use every CPU.
            if hasattr(os, "sched_setaffinity"):
                os.sched_setaffinity(0, sub_cores | pub_cores)
            pool = asyncio.run(
                run_plantwin(port, f"pwworkers{rnd}", messages, 1, 0, args, args.workers)
            )
            if sub_cores and hasattr(os, "sched_setaffinity"):
                os.sched_setaffinity(0, sub_cores)
            print(row(f"plantwin, 1-sample, {args.workers} workers*", pool), flush=True)
            figures[f"{name}_plantwin_workers{suffix}"] = pool
        ours = got["plantwin"]["samples_per_s"]
        ratios = {k: ours / r["samples_per_s"] for k, r in got.items() if k != "plantwin"}
        print("  plantwin / " + ", ".join(f"{k} {v:.2f}" for k, v in ratios.items()))
        for who, r in got.items():
            figures[f"{name}_{who}{suffix}"] = r
        figures[f"{name}_ratio{suffix}"] = ratios["bare"]
        if "nodered" in ratios:
            figures[f"{name}_ratio_nodered{suffix}"] = ratios["nodered"]


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--publishers", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--rate", type=float, default=10_000.0, help="samples/s for latency")
    parser.add_argument("--only", choices=["throughput", "latency"], default=None)
    parser.add_argument("--workers", type=int, default=2, help="also run with mqtt workers")
    parser.add_argument("--protocol", choices=["3.1.1", "5"], default="3.1.1")
    parser.add_argument(
        "--client",
        choices=["paho", "mosquitto_sub"],
        default="paho",
        help="plantwin's receiving client (mosquitto_sub: ack received, no workers)",
    )
    parser.add_argument(
        "--broker-inflight", type=int, default=0, help="Mosquitto max_inflight_messages (0: none)"
    )
    parser.add_argument(
        "--ack", choices=["received", "stored"], default=None, help="default: by protocol"
    )
    parser.add_argument("--rounds", type=int, default=1, help="throughput rounds (order turns)")
    parser.add_argument(
        "--node-red",
        action="store_true",
        help="also Node-RED (mqtt-in QoS 1 -> function: parse, count); npm installs it once",
    )
    parser.add_argument("--node-red-version", default=mqtt_nodered.VERSION)
    parser.add_argument(
        "--no-pin", action="store_true", help="every process on every CPU (default: pinned)"
    )
    return parser.parse_args()


def main() -> int:
    global PIN  # noqa: PLW0603
    args = parse_args()
    PIN = not args.no_pin
    sub_cores, pub_cores = cpus()
    if sub_cores and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, sub_cores)
    workdir = Path(tempfile.mkdtemp(prefix="plantwin-mosquitto-"))
    broker = Broker(workdir, pub_cores, args.broker_inflight)
    print(
        f"own mosquitto on port {broker.port}; subscriber CPUs {sorted(sub_cores)}, "
        f"broker and publishers on CPUs {sorted(pub_cores)}; load average "
        + " ".join(f"{x:.2f}" for x in os.getloadavg())
    )
    red = node_red(args)
    figures: dict[str, Any] = {}
    try:
        header = (
            f"{'throughput (QoS 1, drain a queue)':<34} {'messages':>9} {'samples':>10} "
            f"{'lost':>6} {'msg/s':>10} {'samples/s':>12} {'pub msg/s':>10}"
        )
        if args.only != "latency":
            print(header)
            for rnd in range(args.rounds):
                throughput_round(broker.port, args, rnd, red, figures)
        title = f"latency at {args.rate:,.0f} samples/s"
        print(f"\n{title:<34} {'samples':>9} {'lost':>6} {'p50 ms':>9} {'p99 ms':>9}")
        for per in (1, 50) if args.only != "throughput" else ():
            steady = max(int(args.rate * args.seconds) // per // 100 * 100, 100)
            rate = args.rate / per
            bare = run_bare(broker.port, f"barelat{per}", steady, per, rate, args)
            print(row(f"bare paho, {per}-sample: -> parsed", bare, latency=True), flush=True)
            ours = asyncio.run(run_plantwin(broker.port, f"pwlat{per}", steady, per, rate, args))
            label = f"plantwin {args.client}, {per}-sample: -> live"
            print(row(label, ours, latency=True), flush=True)
            figures[f"latency{per}_bare"] = bare
            figures[f"latency{per}_plantwin"] = ours
        print("load average " + " ".join(f"{x:.2f}" for x in os.getloadavg()))
    finally:
        broker.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    emit(
        {
            "bench": "mqtt_ingest",
            **{
                k: (
                    {kk: (round(vv, 2) if isinstance(vv, float) else vv) for kk, vv in v.items()}
                    if isinstance(v, dict)
                    else round(v, 3)
                )
                for k, v in figures.items()
            },
        }
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

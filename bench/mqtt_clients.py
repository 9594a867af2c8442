"""Helper processes of the MQTT benchmark: a JSON publisher and a bare paho subscriber.

``python -m bench.mqtt_clients publish PORT PREFIX MESSAGES PER_MESSAGE RATE SEED``
publishes QoS 1 JSON messages to ``PREFIX/m<i>/s<j>`` (1,000 topics), each a record
``{"value": v, "ts": ns}`` or a list of PER_MESSAGE of them, at RATE messages/s (0: as fast as
possible). With RATE > 0 ``ts`` is the publish time (for latency), else unique synthetic times.
It prints one JSON line: published, start/end wall times.

``python -m bench.mqtt_clients lines PORT PREFIX MESSAGES PER_MESSAGE RATE`` does the same at a
steady RATE through mosquitto_pub processes (10 topics), with ``ts`` the time of publishing.

``python -m bench.mqtt_clients bare PORT FILTER EXPECTED_SAMPLES [CLIENT_ID]`` subscribes at QoS 1
(with CLIENT_ID in a persistent session, to drain what was queued for it),
prints ``ready``, then only parses and counts messages (and the publish -> parse latency from
``ts``) until EXPECTED_SAMPLES arrived or nothing came for 5 s; it prints one JSON line.
"""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
import threading
import time
from typing import Any

import numpy as np
import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion

TOPICS = 1000  # 100 machines x 10 signals
LINE_TOPICS = 10  # topics (and mosquitto_pub processes) of the paced "lines" publisher
BASE_NS = 1_700_000_000 * 1_000_000_000  # synthetic times start here (2023-11-14)


def topic(prefix: str, k: int) -> str:
    return f"{prefix}/m{k % TOPICS // 10:03d}/s{k % 10}"


def publish(port: int, prefix: str, messages: int, per: int, rate: float, seed: int) -> None:
    client = paho.Client(callback_api_version=CallbackAPIVersion.VERSION2)
    client.max_inflight_messages_set(1000)
    acked = 0
    done = threading.Event()

    def on_publish(c: paho.Client, u: object, mid: int, rc: object, p: object) -> None:
        nonlocal acked
        acked += 1
        if acked == messages:
            done.set()

    client.on_publish = on_publish
    client.connect("127.0.0.1", port)
    client.loop_start()
    time.sleep(0.2)
    start = time.time_ns()
    t0 = time.perf_counter()
    for k in range(seed * messages, (seed + 1) * messages):
        if rate > 0:
            wait = t0 + (k - seed * messages) / rate - time.perf_counter()
            if wait > 0:
                time.sleep(wait)
            now = time.time_ns()
            ts = [now + r for r in range(per)]  # distinct: the store keeps (signal, ts) once
        else:
            # Unique (topic, ts) per sample, so the store keeps every one.
            first = BASE_NS + k // TOPICS * per * 1000
            ts = [first + 1000 * r for r in range(per)]
        records = [{"value": float(k % 997), "ts": t} for t in ts]
        body = json.dumps(records[0] if per == 1 else records)
        client.publish(topic(prefix, k), body, qos=1)
    done.wait(300)
    end = time.time_ns()
    client.disconnect()
    client.loop_stop()
    print(json.dumps({"published": messages, "acked": acked, "start": start, "end": end}))


def lines(port: int, prefix: str, messages: int, per: int, rate: float) -> None:
    """Paced publishing through mosquitto_pub (C) processes, one per topic, fed line by line.

    Python only writes lines here, so the publisher side stays cheap and a steady rate is
    steady; ``ts`` is stamped when the line is written.
    """
    pubs = [
        subprocess.Popen(
            [
                *("mosquitto_pub", "-h", "127.0.0.1", "-p", str(port), "-q", "1", "-M", "1000"),
                *("-l", "-t", topic(prefix, j)),
            ],
            stdin=subprocess.PIPE,
        )
        for j in range(LINE_TOPICS)
    ]
    time.sleep(0.5)  # connected
    start = time.time_ns()
    t0 = time.perf_counter()
    for k in range(messages):
        wait = t0 + k / rate - time.perf_counter()
        if wait > 0:
            time.sleep(wait)
        now = time.time_ns()
        records = [{"value": float(k % 997), "ts": now + r} for r in range(per)]
        stdin = pubs[k % LINE_TOPICS].stdin
        assert stdin is not None
        stdin.write((json.dumps(records[0] if per == 1 else records) + "\n").encode())
        stdin.flush()
    for p in pubs:
        assert p.stdin is not None
        p.stdin.close()
    ok = sum(p.wait(60) == 0 for p in pubs) == len(pubs)
    end = time.time_ns()
    print(
        json.dumps(
            {"published": messages, "acked": messages if ok else 0, "start": start, "end": end}
        )
    )


def bare(port: int, filter_: str, expected: int, client_id: str) -> None:
    """With ``client_id`` the session is persistent: run once with EXPECTED 0 to create it."""
    client = paho.Client(
        callback_api_version=CallbackAPIVersion.VERSION2,
        client_id=client_id,
        clean_session=not client_id,
    )
    subscribed = threading.Event()
    state = {"messages": 0, "samples": 0, "first": 0, "last": 0, "bad": 0, "connected": 0}
    latency: list[int] = []

    def on_message(c: paho.Client, u: object, msg: paho.MQTTMessage) -> None:
        now = time.time_ns()
        try:
            doc = json.loads(msg.payload)
        except ValueError:
            state["bad"] += 1
            return
        records = doc if isinstance(doc, list) else [doc]
        n = 0
        for r in records:
            if isinstance(r.get("value"), int | float):
                n += 1
        if not state["first"]:
            state["first"] = now
        state["last"] = now
        state["messages"] += 1
        state["samples"] += n
        latency.append(now - int(records[-1]["ts"]))

    def on_connect(c: paho.Client, u: object, f: object, rc: object, p: object) -> None:
        state["connected"] = time.time_ns()

    client.on_connect = on_connect
    client.on_message = on_message
    client.on_subscribe = lambda c, u, mid, rc, p: subscribed.set()
    client.connect("127.0.0.1", port)
    client.subscribe(filter_, qos=1)
    client.loop_start()
    subscribed.wait(10)
    print("ready", flush=True)
    idle_since = time.monotonic()
    seen = 0
    while state["samples"] < expected:
        time.sleep(0.05)
        if state["samples"] != seen:
            seen, idle_since = state["samples"], time.monotonic()
        elif time.monotonic() - idle_since > 5:
            break
    client.disconnect()
    client.loop_stop()
    lat = np.array(latency, np.int64)
    out = {
        **state,
        "latency_p50_ms": float(np.percentile(lat, 50)) / 1e6 if len(lat) else None,
        "latency_p99_ms": float(np.percentile(lat, 99)) / 1e6 if len(lat) else None,
    }
    print(json.dumps(out), flush=True)


def block_docs(block: bytes, state: dict[str, int]) -> list[Any]:
    """The lines of ``block`` parsed by one json.loads; line by line if that fails."""
    try:
        return json.loads(b"[" + block.replace(b"\n", b",") + b"]")  # type: ignore[no-any-return]
    except ValueError:
        out = []
        for line in block.split(b"\n"):
            try:
                out.append(json.loads(line))
            except ValueError:
                state["bad"] += 1
        return out


def msub(port: int, filter_: str, expected: int, client_id: str, fmt: str = "raw") -> None:
    """Like :func:`bare`, but mosquitto_sub (C) speaks MQTT and Python decodes its output in blocks.

    ``fmt`` raw: one line ``{"t": topic, "p": payload}`` per message, a block of lines parsed by
    one ``json.loads``; a block that fails falls back to line by line. ``fmt`` j: mosquitto_sub's
    ``%j`` (payload as an escaped string, parsed again per message: safe for any payload).
    """
    args = [
        *("mosquitto_sub", "-h", "127.0.0.1", "-p", str(port), "-q", "1", "-t", filter_),
        *("-F", '{"t":"%t","p":%p}' if fmt == "raw" else "%j"),
    ]
    if client_id:
        args += ["-c", "-i", client_id]
    if not expected:  # only create the persistent session
        subprocess.run([*args, "-E"], check=True, timeout=30)
        print("ready", flush=True)
        print(json.dumps({"messages": 0, "samples": 0}), flush=True)
        return
    state = {"messages": 0, "samples": 0, "first": 0, "last": 0, "bad": 0, "connected": 0}
    latency: list[int] = []
    state["connected"] = time.time_ns()
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, bufsize=0)
    assert proc.stdout is not None
    fd = proc.stdout.fileno()
    print("ready", flush=True)
    rest = b""

    while state["samples"] < expected:
        ready, _, _ = select.select([fd], [], [], 5.0)
        if not ready:
            break
        chunk = os.read(fd, 1 << 20)
        if not chunk:
            break
        now = time.time_ns()
        data = rest + chunk
        cut = data.rfind(b"\n")
        if cut < 0:
            rest = data
            continue
        rest = data[cut + 1 :]
        for doc in block_docs(data[:cut], state):
            p = doc["p"] if fmt == "raw" else json.loads(doc["payload"])
            records = p if isinstance(p, list) else [p]
            n = 0
            for r in records:
                if isinstance(r.get("value"), int | float):
                    n += 1
            state["messages"] += 1
            state["samples"] += n
            latency.append(now - int(records[-1]["ts"]))
        if not state["first"]:
            state["first"] = now
        state["last"] = now
    proc.terminate()
    proc.wait(10)
    lat = np.array(latency, np.int64)
    out = {
        **state,
        "latency_p50_ms": float(np.percentile(lat, 50)) / 1e6 if len(lat) else None,
        "latency_p99_ms": float(np.percentile(lat, 99)) / 1e6 if len(lat) else None,
    }
    print(json.dumps(out), flush=True)


def main() -> int:
    mode, args = sys.argv[1], sys.argv[2:]
    if mode == "publish":
        publish(int(args[0]), args[1], int(args[2]), int(args[3]), float(args[4]), int(args[5]))
    elif mode == "lines":
        lines(int(args[0]), args[1], int(args[2]), int(args[3]), float(args[4]))
    elif mode == "bare":
        bare(int(args[0]), args[1], int(args[2]), args[3] if len(args) > 3 else "")
    elif mode in ("msub", "msubj"):
        fmt = "raw" if mode == "msub" else "j"
        msub(int(args[0]), args[1], int(args[2]), args[3] if len(args) > 3 else "", fmt)
    else:
        print(f"unknown mode {mode}")
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Prototype: mosquitto_sub (C) + block decode in Python, next to the bare paho subscriber.

Run: .venv/bin/python -m bench.mqtt_msub [--messages 100000] [--publishers 2] [--seconds 10]

Same broker, publishers and method as :mod:`bench.mqtt_ingest` (drain a persistent session's
queue; then a steady rate for latency), three subscribers that only parse and count:

- bare paho: paho-mqtt's Python loop, ``json.loads`` per message;
- msub raw: ``mosquitto_sub -F '{"t":"%t","p":%p}'``, Python reads the pipe in large chunks
  and parses a block of lines with one ``json.loads``;
- msub %j: ``mosquitto_sub -F %j`` (payload quoted, so safe for any bytes), parsed per message.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

from bench.common import emit
from bench.mqtt_ingest import Broker, cpus, row, run_bare

MODES = {"bare": "bare paho", "msub": "mosquitto_sub raw", "msubj": "mosquitto_sub %j"}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--publishers", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--rate", type=float, default=10_000.0, help="samples/s for latency")
    args = parser.parse_args()
    _, pub_cores = cpus()
    workdir = Path(tempfile.mkdtemp(prefix="plantwin-mosquitto-"))
    broker = Broker(workdir, pub_cores)
    print(f"load average {os.getloadavg()[0]:.2f}; broker+publishers on {sorted(pub_cores)}")
    figures: dict[str, Any] = {}
    try:
        for name, messages, per in (("single", args.messages, 1), ("batch50", 10_000, 50)):
            for mode, label in MODES.items():
                r = run_bare(broker.port, f"{mode}{name}", messages, per, 0, args, mode)
                print(row(f"{label}, {per}-sample", r), flush=True)
                figures[f"{name}_{mode}"] = r
        for per in (1, 50):
            steady = max(int(args.rate * args.seconds) // per // 100 * 100, 100)
            for mode, label in MODES.items():
                r = run_bare(
                    broker.port, f"lat{mode}{per}", steady, per, args.rate / per, args, mode
                )
                print(row(f"{label}, {per}-sample latency", r, latency=True), flush=True)
                figures[f"latency{per}_{mode}"] = r
        print(f"load average {os.getloadavg()[0]:.2f}")
    finally:
        broker.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    emit({"bench": "mqtt_msub", **figures})
    return 0


if __name__ == "__main__":
    sys.exit(main())

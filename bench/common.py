"""Helpers shared by the benchmarks: one-core pinning, a free port, the closing JSON line."""

from __future__ import annotations

import json
import os
import platform
import socket


def pin_to_one_core() -> str:
    """Run this process (and DuckDB's threads) on one CPU, so figures are per core."""
    if hasattr(os, "sched_setaffinity"):
        core = min(os.sched_getaffinity(0))
        os.sched_setaffinity(0, {core})
        return f"pinned to CPU {core}"
    return f"not pinned ({platform.system()} has no sched_setaffinity)"


def emit(figures: dict[str, object]) -> None:
    """The benchmark's last line: one JSON object with its figures."""
    print(json.dumps(figures, sort_keys=False))


def free_port() -> int:
    """A TCP port on loopback that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])

"""Run the benchmarks: `make bench`, or `python -m bench NAME... [--option ...]`.

Names come from BENCHES below; options (arguments from the first one starting with ``-``)
are handed to each named benchmark, e.g. `python -m bench rules --samples 2000000`.
Each benchmark runs in its own process (they pin themselves to one core), prints a readable
table, and ends with one JSON line of its figures.
"""

from __future__ import annotations

import subprocess
import sys

BENCHES = {
    "ingest": "bench.ingest_pipeline",
    "store": "bench.store_duckdb",
    "rules": "bench.rules_overhead",
    "aas": "bench.aas_export",
    "opcua": "bench.opcua_demo",
    "kpis": "bench.kpis",
    "replay": "bench.replay_file",
    "http": "bench.http_ingest",
    "mqtt": "bench.mqtt_ingest",
    "spool": "bench.store_spool",
    "fmu": "bench.fmu_cosim",
    "live": "bench.live_api",
    "anomalies": "bench.anomalies",
    "reports": "bench.reports_query",
    "des": "bench.des",
    "auth": "bench.auth_check",
    "rul": "bench.rul_online",
    "rul_interval": "bench.rul_interval",
}


def main() -> int:
    args = sys.argv[1:]
    split = next((i for i, a in enumerate(args) if a.startswith("-")), len(args))
    names, options = args[:split] or list(BENCHES), args[split:]
    unknown = [n for n in names if n not in BENCHES]
    if unknown:
        print(f"unknown benchmark(s) {', '.join(unknown)}; choose from {', '.join(BENCHES)}")
        return 2
    failed = 0
    for name in names:
        print(f"== {name} ==", flush=True)
        failed += subprocess.call([sys.executable, "-m", BENCHES[name], *options]) != 0
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

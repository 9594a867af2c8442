"""Runtime settings: everything the composition root needs to build a running twin."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True, slots=True, kw_only=True)
class Settings:
    plant: Path
    store: str = "plantwin.duckdb"  # DuckDB file; ":memory:" keeps nothing
    host: str = "127.0.0.1"
    port: int = 8000
    demo: bool = False  # run the demo plant simulator as the plant's 'demo' connector
    speed: float = 60.0  # demo: simulated seconds per wall second
    seed: int = 7  # demo: random seed of the simulator
    opcua_port: int = 4840  # demo: port of the demo plant's OPC UA server (127.0.0.1)
    in_process: bool = False  # demo: read the simulator directly instead of over OPC UA
    retention_days: float | None = None  # delete history older than this (plant time)
    retention_every: float = 60.0  # wall seconds between retention runs
    snapshot_every: float = 5.0  # demo: wall seconds between simulator snapshots
    # demo: train and register the plant's RUL and scrap models the store lacks, from
    # simulated history in a background process (runtime/demo_models.py); `plantwin demo` sets it
    train_models: bool = False
    model_check_every: float = 30.0  # wall seconds between looks for newer model versions
    flush_interval: float = 1.0  # store: longest a sample waits in memory before commit
    # Store-and-forward: samples whose store write failed wait on local disk, bounded by bytes.
    spool_dir: str | None = None  # default: beside the store file, "<store>.spool"
    spool_max_bytes: int = 512 * 2**20
    kpi_every: float = 30.0  # wall seconds between runs of the job storing closed KPI periods
    kpi_lookback_days: float = 2.0  # how far back that job looks for closed shifts and days
    reports_dir: Path | None = None  # scheduled reports: closed shifts and days of each line
    report_format: str = "pdf"  # pdf or html
    only_connectors: frozenset[str] | None = None  # run just these declared connectors
    # The API's admin token for this run; None: a new one is generated (Runtime.admin_token).
    admin_token: str | None = field(default=None, repr=False)
    # Options laid over a connector's plant-file options (e.g. `plantwin replay FILE`).
    connector_options: Mapping[str, Mapping[str, object]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.report_format not in ("pdf", "html"):
            msg = f"report format must be pdf or html, got {self.report_format!r}"
            raise ValueError(msg)
        if not math.isfinite(self.speed) or self.speed <= 0:
            msg = f"speed must be positive, got {self.speed}"
            raise ValueError(msg)
        if not 0 < self.port < 65536:
            msg = f"port must be 1-65535, got {self.port}"
            raise ValueError(msg)
        if not 0 < self.opcua_port < 65536:
            msg = f"OPC UA port must be 1-65535, got {self.opcua_port}"
        if not (self.kpi_every > 0 and self.kpi_lookback_days > 0):
            msg = f"KPI job needs positive kpi_every and kpi_lookback_days, got {self.kpi_every}"
            raise ValueError(msg)
        if not (math.isfinite(self.model_check_every) and self.model_check_every > 0):
            msg = f"model_check_every must be positive seconds, got {self.model_check_every}"
            raise ValueError(msg)
        if self.spool_max_bytes < 1:
            msg = f"spool_max_bytes must be positive, got {self.spool_max_bytes}"
            raise ValueError(msg)
        if self.retention_days is not None and self.retention_days <= 0:
            msg = f"retention must be positive days, got {self.retention_days}"
            raise ValueError(msg)

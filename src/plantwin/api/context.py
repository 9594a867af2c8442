"""What the API needs from the running twin, handed over by the composition root."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from plantwin.api.live.hub import LiveHub
from plantwin.core.clock import Clock
from plantwin.core.connector import ConnectorHealth, Inlet
from plantwin.core.samples import RawBatch
from plantwin.core.store import Store
from plantwin.model.catalog import SignalCatalog
from plantwin.model.plant import Plant
from plantwin.processing.accounts import Accounts
from plantwin.processing.commands import CommandService
from plantwin.processing.processor import RuleProcessor
from plantwin.store.sql_sandbox import SqlSandbox
from plantwin.twin import TwinState


def _no_connectors() -> Sequence[ConnectorHealth]:
    return ()


@dataclass(frozen=True, slots=True, kw_only=True)
class ApiContext:
    plant: Plant
    catalog: SignalCatalog
    twin: TwinState
    store: Store
    clock: Clock
    health: Callable[[], Mapping[str, Any]]  # runtime figures for GET /api/v1/health
    accounts: Accounts  # users and tokens: every route but the public ones needs a token
    rules: RuleProcessor | None = None  # rules and alarms; None: the API says they are off
    connectors: Callable[[], Sequence[ConnectorHealth]] = _no_connectors  # running ones
    not_running: Mapping[str, str] = field(default_factory=dict)  # connector -> why not
    inlets: Mapping[str, Inlet] = field(default_factory=dict)  # http connectors by name
    # Rows of a batch that ingest would dead-letter, with why (Ingestor.screen); None: no check.
    screen: Callable[[RawBatch], Sequence[tuple[int, str]]] | None = None
    commands: CommandService | None = None  # None: the API says commands are not running
    live: LiveHub | None = None  # None: the live WebSocket closes with "not running"
    sql: SqlSandbox | None = None  # POST /api/v1/query; None: the store has no SQL (400)

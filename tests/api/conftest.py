"""An API over the example replay plant with a real http connector (no server socket)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest

from plantwin.api.app import create_app
from plantwin.api.context import ApiContext
from plantwin.connectors.http import HttpConnector, HttpOptions
from plantwin.core import ManualClock
from plantwin.ingest import Ingestor
from plantwin.model.catalog import SignalCatalog
from plantwin.model.loader import load_plant
from plantwin.store import MemoryStore
from plantwin.twin import TwinState
from tests.conftest import ROOT
from tests.helpers import T0, S, accounts_for, bearer

REPLAY_PLANT = ROOT / "examples" / "replay-line.yaml"


@dataclass
class IngestApp:
    http: httpx.AsyncClient
    gateway: HttpConnector
    context: ApiContext


@pytest.fixture
async def ingest_app() -> AsyncIterator[IngestApp]:
    plant = load_plant(REPLAY_PLANT)
    async with MemoryStore() as store:
        catalog = SignalCatalog(plant, await store.register_signals(list(plant.signals)))
        clock = ManualClock(T0 + 60 * S)
        ingestor = Ingestor(catalog, clock)
        gateway = HttpConnector(
            name="gateway", options=HttpOptions(max_body_bytes=4096, queue_samples=20)
        )
        async with gateway:
            context = ApiContext(
                plant=plant,
                catalog=catalog,
                twin=TwinState(plant, catalog),
                store=store,
                clock=clock,
                health=lambda: {"status": "ok"},
                accounts=accounts_for(store),
                connectors=lambda: [gateway.health()],
                not_running={"recording": "not selected for this run"},
                inlets={"gateway": gateway},
                screen=ingestor.screen,
            )
            transport = httpx.ASGITransport(app=create_app(context))
            headers = await bearer(context.accounts)
            async with httpx.AsyncClient(
                transport=transport, base_url="http://test", headers=headers
            ) as http:
                yield IngestApp(http, gateway, context)

"""Access control benchmark: what checking a bearer token costs per API request.

Run: .venv/bin/python -m bench.auth_check [--requests 2000]

Baseline (raw): the SHA-256 of a token, which any scheme storing token digests must compute.
Measured: ``Accounts.authenticate`` with the token cached, and with the cache empty (a lookup
in a DuckDB store: worker thread, users and token query); then whole requests through the
ASGI app: the public ``GET /api/v1/health`` against the authenticated ``GET /api/v1/auth/me``
(both tiny answers, so the difference is mostly the token check and its dependency).
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import time
from collections.abc import Awaitable, Callable

import httpx
from tests.conftest import EXAMPLE

from bench.common import emit, pin_to_one_core
from plantwin.api.app import create_app
from plantwin.api.context import ApiContext
from plantwin.core.auth import Role
from plantwin.core.clock import WallClock
from plantwin.model.catalog import SignalCatalog
from plantwin.model.loader import load_plant
from plantwin.processing.accounts import Accounts
from plantwin.store import DuckDBStore
from plantwin.twin import TwinState


async def per_call(n: int, call: Callable[[], Awaitable[object]]) -> float:
    """Best of three runs of ``n`` calls, in microseconds per call."""
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        for _ in range(n):
            await call()
        best = min(best, (time.perf_counter() - start) / n)
    return best * 1e6


async def run(requests: int) -> dict[str, object]:
    plant = load_plant(EXAMPLE)
    async with DuckDBStore(path=":memory:") as store:
        accounts = Accounts(store)
        await accounts.add_user("kim", Role.OPERATOR)
        secret = (await accounts.issue("kim")).secret

        async def digest() -> str:
            return hashlib.sha256(secret.encode()).hexdigest()

        async def cold() -> object:
            accounts._cache.clear()  # the uncached path is what is measured
            return await accounts.authenticate(secret)

        raw = await per_call(requests * 10, digest)
        cached = await per_call(requests * 10, lambda: accounts.authenticate(secret))
        uncached = await per_call(max(requests // 10, 50), cold)
        catalog = SignalCatalog(plant, await store.register_signals(list(plant.signals)))
        context = ApiContext(
            plant=plant,
            catalog=catalog,
            twin=TwinState(plant, catalog),
            store=store,
            clock=WallClock(),
            health=lambda: {"status": "ok"},
            accounts=accounts,
        )
        transport = httpx.ASGITransport(app=create_app(context))
        headers = {"Authorization": f"Bearer {secret}"}
        async with httpx.AsyncClient(transport=transport, base_url="http://b") as http:
            public = await per_call(requests, lambda: http.get("/api/v1/health"))
            authed = await per_call(requests, lambda: http.get("/api/v1/auth/me", headers=headers))
    return {
        "sha256_us": round(raw, 2),
        "authenticate_cached_us": round(cached, 2),
        "cached_vs_sha256": round(cached / raw, 1),
        "authenticate_store_lookup_us": round(uncached, 1),
        "public_request_us": round(public, 1),
        "authenticated_request_us": round(authed, 1),
        "authenticated_vs_public": round(authed / public, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=2000)
    args = parser.parse_args()
    print(pin_to_one_core())
    figures = asyncio.run(run(args.requests))
    for name, value in figures.items():
        print(f"{name:>30}: {value}")
    emit({"bench": "auth", **figures})


if __name__ == "__main__":
    main()

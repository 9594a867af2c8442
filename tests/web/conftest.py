"""A real Runtime (demo plant, in process) and Debian's Chromium driven by Playwright."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Browser, async_playwright

from plantwin.runtime import Runtime, Settings
from tests.conftest import EXAMPLE, ROOT, require_service
from tests.runtime.demo_process import free_port

CHROMIUM = Path("/usr/bin/chromium")
HAVE_CHROMIUM = CHROMIUM.exists()
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
PASSWORD = "correct horse battery"
MILL = "changwon.L1.mill1"
COOLANT = f"{MILL}/coolant_temp"
COOLANT_ALARM = f"{MILL}:coolant_hot"

MILL_INSTANCE = """            properties: {serial: DNM57-0931, install_date: 2019-04-01}
            position: [4, 5]
"""


def web_plant(tmp_path: Path) -> Path:
    """The demo plant, with the mill's coolant temperature fed over HTTP and alarmed above 40 °C.

    The test then decides when that value changes (POST /api/v1/ingest) and when the alarm
    comes, while the rest of the line runs as in the demo.
    """
    text = EXAMPLE.read_text()
    assert MILL_INSTANCE in text
    assert "connectors:\n" in text
    text = text.replace("connectors:\n", "connectors:\n  gateway:\n    kind: http\n", 1)
    text = text.replace(
        MILL_INSTANCE,
        MILL_INSTANCE
        + """            bindings:
              coolant_temp: {connector: gateway, address: "mill1/coolant_temp"}
            rules:
              coolant_hot: {kind: threshold, signal: coolant_temp, above: 40 degC, priority: high}
""",
        1,
    )
    path = tmp_path / "plant.yaml"
    path.write_text(text)
    return path


@pytest.fixture
async def runtime(tmp_path: Path) -> AsyncIterator[Runtime]:
    settings = Settings(
        plant=web_plant(tmp_path),
        store=str(tmp_path / "web.duckdb"),  # DuckDB: the SQL page needs it
        port=free_port(),
        demo=True,
        in_process=True,
        speed=60.0,
    )
    async with Runtime(settings) as rt:
        serving = asyncio.create_task(rt.serve())
        try:
            async with httpx.AsyncClient(base_url=base_url(rt)) as http:
                for _ in range(200):
                    try:
                        if (await http.get("/api/v1/health")).status_code == 200:
                            break
                    except httpx.TransportError:
                        await asyncio.sleep(0.05)
            for name, role in (("kim", "operator"), ("lee", "viewer"), ("park", "engineer")):
                await admin(
                    rt, "POST", "/api/v1/users", {"name": name, "role": role, "password": PASSWORD}
                )
            yield rt
        finally:
            rt.stop.set()
            await serving


def base_url(rt: Runtime) -> str:
    return f"http://127.0.0.1:{rt.settings.port}"


async def admin(rt: Runtime, method: str, path: str, body: object = None) -> httpx.Response:
    async with httpx.AsyncClient(base_url=base_url(rt)) as http:
        response = await http.request(
            method, path, json=body, headers={"Authorization": f"Bearer {rt.admin_token}"}
        )
    assert response.status_code < 300, response.text
    return response


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    if not HAVE_CHROMIUM:
        require_service("Chromium", f"{CHROMIUM} is missing (apt-get install chromium)")
    async with async_playwright() as pw:
        chromium = await pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            yield chromium
        finally:
            await chromium.close()

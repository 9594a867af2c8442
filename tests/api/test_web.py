"""The dashboard's files: served from the package without a token, nothing else."""

from __future__ import annotations

import hashlib
import re
from collections.abc import AsyncIterator
from importlib.resources import files

import httpx
import pytest
from fastapi import FastAPI

from plantwin.api import errors, web


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    app = FastAPI()
    errors.install(app)
    app.include_router(web.page)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield client


async def test_root_goes_to_the_dashboard(http: httpx.AsyncClient) -> None:
    response = await http.get("/")
    assert response.status_code == 307
    assert response.headers["location"] == "/ui/index.html"
    page = await http.get("/ui/index.html")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert '<script type="module" src="/ui/js/app.js">' in page.text


async def test_every_module_the_pages_import_is_served(http: httpx.AsyncClient) -> None:
    """Follow the static imports from app.js; each is served as JavaScript."""
    pending, seen = ["/ui/js/app.js"], set()
    pages = files("plantwin.web") / "ui" / "js" / "pages"
    pending += [f"/ui/js/pages/{p.name}" for p in pages.iterdir() if p.name.endswith(".js")]
    while pending:
        url = pending.pop()
        if url in seen:
            continue
        seen.add(url)
        response = await http.get(url)
        assert response.status_code == 200, url
        assert response.headers["content-type"].startswith("text/javascript")
        base = url.rsplit("/", 1)[0]
        for spec in re.findall(r'from "(\.{1,2}/[^"]+)"', response.text):
            parts = base.split("/")
            for step in spec.split("/"):
                if step == "..":
                    parts.pop()
                elif step != ".":
                    parts.append(step)
            pending.append("/".join(parts))
    assert len(seen) >= 12


async def test_vendored_files_match_their_recorded_digests(http: httpx.AsyncClient) -> None:
    table = (files("plantwin.web") / "ui" / "vendor" / "VENDORED.md").read_text("utf-8")
    rows = re.findall(r"^\| (\S+) \| \S+ \| \S+ \| ([0-9a-f]{64}) \|", table, re.MULTILINE)
    assert len(rows) == 3
    for name, digest in rows:
        if name.endswith(".LICENSE"):
            continue
        response = await http.get(f"/ui/vendor/{name}")
        assert response.status_code == 200, name
        assert hashlib.sha256(response.content).hexdigest() == digest, name


@pytest.mark.parametrize(
    "path",
    [
        "/ui/../__init__.py",
        "/ui/%2e%2e/login.html",
        "/ui/js/../../__init__.py",
        "/ui/vendor/VENDORED.md",
        "/ui/vendor/uPlot.LICENSE",
        "/ui/nothing.js",
        "/ui/js",
    ],
)
async def test_nothing_else_is_served(http: httpx.AsyncClient, path: str) -> None:
    response = await http.get(path)
    assert response.status_code == 404, (path, response.text[:200])

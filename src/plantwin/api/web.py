"""The dashboard: static pages and modules served from the package, no build step.

The files hold no data: every number the dashboard shows comes from the API with the
user's token, so they are public like the login page.
"""

from __future__ import annotations

from importlib.resources import files
from importlib.resources.abc import Traversable

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from plantwin.api.errors import NotFoundError

page = APIRouter(include_in_schema=False)

# What the dashboard ships; anything else is 404 (no directory listing, no '..').
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
}
# Vendored files carry their version in VENDORED.md; the app's own may change with a release.
CACHE = "no-cache"


def _file(path: str) -> Traversable:
    parts = path.split("/")
    if any(p in ("", ".", "..") or p.startswith(".") for p in parts):
        raise NotFoundError(f"no dashboard file '{path}'")
    node: Traversable = files("plantwin.web") / "ui"
    for p in parts:
        node = node / p
    if not node.is_file():
        raise NotFoundError(f"no dashboard file '{path}'")
    return node


@page.get("/", response_class=RedirectResponse)
async def root() -> RedirectResponse:
    return RedirectResponse("/ui/index.html", status_code=307)


@page.get("/ui/{path:path}")
async def ui_file(path: str) -> Response:
    suffix = "." + path.rsplit(".", 1)[-1] if "." in path else ""
    if suffix not in CONTENT_TYPES:
        raise NotFoundError(f"no dashboard file '{path}'")
    body = _file(path).read_bytes()
    if suffix == ".html":
        return HTMLResponse(body, headers={"Cache-Control": CACHE})
    return Response(body, media_type=CONTENT_TYPES[suffix], headers={"Cache-Control": CACHE})

"""Every error leaves the API as JSON: {"error": {"status", "message", "detail"}}."""

from __future__ import annotations

import logging
from collections.abc import Mapping

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match, Route

from plantwin.api.params import ParamError
from plantwin.core.errors import PlantwinError, QueryError, StoreError

log = logging.getLogger(__name__)


class NotFoundError(PlantwinError):
    """The named twin or signal does not exist."""


class ConflictError(PlantwinError):
    """The request is well formed but the resource's state does not allow it (409)."""


def error_response(
    status: int,
    message: str,
    detail: list[dict[str, object]] | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    """The API's one error shape: {"error": {"status", "message", "detail"}}."""
    payload: dict[str, object] = {"status": status, "message": message}
    if detail is not None:
        payload["detail"] = detail
    return JSONResponse(status_code=status, content={"error": payload}, headers=headers)


def install(app: FastAPI) -> None:
    @app.exception_handler(NotFoundError)
    async def not_found(_: Request, exc: NotFoundError) -> JSONResponse:
        return error_response(404, str(exc))

    @app.exception_handler(ConflictError)
    async def conflict(_: Request, exc: ConflictError) -> JSONResponse:
        return error_response(409, str(exc))

    @app.exception_handler(ParamError)
    async def bad_param(_: Request, exc: ParamError) -> JSONResponse:
        return error_response(400, str(exc))

    @app.exception_handler(QueryError)
    async def bad_query(_: Request, exc: QueryError) -> JSONResponse:
        return error_response(400, str(exc))

    @app.exception_handler(RequestValidationError)
    async def invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        detail = [
            {"where": ".".join(str(p) for p in e.get("loc", ())), "problem": e.get("msg", "")}
            for e in exc.errors()
        ]
        first = detail[0] if detail else {"where": "request", "problem": "invalid"}
        return error_response(422, f"{first['where']}: {first['problem']}", detail)

    @app.exception_handler(StoreError)
    async def store_error(_: Request, exc: StoreError) -> JSONResponse:
        return error_response(503, f"the store cannot answer now: {exc}")

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error in %s %s", request.method, request.url.path)
        return error_response(
            500, f"internal error ({type(exc).__name__}: {exc}); the server log has details"
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        message = exc.detail if isinstance(exc.detail, str) else "request failed"
        if exc.status_code == 404 and message == "Not Found":
            message = "no such endpoint; see /docs or /openapi.json for the API"
        headers = dict(exc.headers or {})  # keeps e.g. Allow on 405
        if exc.status_code == 405:
            headers["Allow"] = _allowed_methods(app, request)
        return error_response(exc.status_code, message, headers=headers or None)


def _allowed_methods(app: FastAPI, request: Request) -> str:
    """Every method of every route at the request's path.

    Starlette answers 405 with the methods of the first route matching the path only, so a
    path served by two routes (GET and POST /api/v1/commands) would list just one of them.
    """
    methods: set[str] = set()
    for route in app.router.routes:
        if isinstance(route, Route) and route.matches(request.scope)[0] is not Match.NONE:
            methods |= route.methods or set()
    return ", ".join(sorted(methods))

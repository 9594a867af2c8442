"""The API factory: the runtime hands in its context; nothing is global."""

from __future__ import annotations

from fastapi import FastAPI

import plantwin
from plantwin.api import (
    alarms,
    commands,
    connectors,
    errors,
    forecasts,
    ingest,
    kpis,
    models,
    query,
    reports,
    simulations,
    twins,
    users,
    web,
)
from plantwin.api.context import ApiContext
from plantwin.api.deps import Context
from plantwin.api.live import route as live
from plantwin.api.schemas import ErrorResponse, HealthOut
from plantwin.simulation.line.service import SimulationService


def create_app(context: ApiContext) -> FastAPI:
    app = FastAPI(
        title="plantwin",
        version=plantwin.__version__,
        summary=(
            "Live digital twin of a plant: twin tree, live state, history, connectors, ingest, "
            "commands; live updates over the WebSocket /api/v1/live "
            "(protocol: GET /api/v1/live/protocol)."
        ),
        description=(
            "Every route except `/api/v1/health`, `/api/v1/auth/login`, `/login` and this "
            "description needs `Authorization: Bearer <token>` and a role that grants the "
            "route's permission (read, operate, engineer or admin); see docs/security.md."
        ),
        responses={
            400: {"model": ErrorResponse, "description": "malformed parameter"},
            404: {"model": ErrorResponse, "description": "unknown twin, signal or alarm"},
            401: {"model": ErrorResponse, "description": "no, unknown, expired or revoked token"},
            403: {"model": ErrorResponse, "description": "the user's role lacks the permission"},
            422: {"model": ErrorResponse, "description": "invalid request"},
        },
    )
    app.state.context = context
    errors.install(app)
    commands.install_errors(app)
    users.install_errors(app)
    app.include_router(twins.router)
    app.include_router(alarms.router)
    app.include_router(kpis.router)
    app.include_router(connectors.router)
    app.include_router(ingest.router)
    app.include_router(commands.router)
    app.include_router(live.router)
    app.include_router(reports.router)
    app.include_router(query.router)
    app.include_router(simulations.router)
    app.state.simulations = SimulationService(store=context.store, clock=context.clock)
    app.include_router(users.router)
    app.include_router(models.router)
    app.include_router(forecasts.router)
    app.include_router(users.page)
    app.include_router(web.page)

    @app.get(
        "/api/v1/health",
        response_model=HealthOut,
        tags=["health"],
        summary="Runtime health (public)",
    )
    async def health(ctx: Context) -> HealthOut:
        details = dict(ctx.health())
        status = str(details.pop("status", "ok"))
        return HealthOut(
            status=status, plant=ctx.plant.name, version=plantwin.__version__, details=details
        )

    return app

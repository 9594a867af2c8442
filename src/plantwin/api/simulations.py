"""Simulation routes: start a what-if study in the background, then read progress and result."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, Field

from plantwin.api.auth import Engineer, Reader
from plantwin.api.deps import Context
from plantwin.api.errors import NotFoundError
from plantwin.model.units import duration_ns
from plantwin.simulation.line.calibrate import calibrate_recent
from plantwin.simulation.line.live import start_from_twin
from plantwin.simulation.line.scenario import (
    ScenarioError,
    base_line,
    parse_scenario,
    study_for_plant,
)
from plantwin.simulation.line.service import SimulationService

router = APIRouter(prefix="/api/v1", tags=["simulations"])

MAX_HORIZON_S = 5 * 365 * 86_400.0  # one request must not occupy the workers for days


class SimulationRequest(BaseModel):
    scenario: str = Field(
        min_length=1,
        max_length=100_000,
        description="scenario YAML (docs/simulation.md); its line is taken from the running plant",
    )
    replications: int | None = Field(default=None, ge=2, le=500, description="runs per scenario")
    horizon: str | None = Field(default=None, description="simulated time per run, e.g. '30 d'")
    from_now: bool = Field(
        default=False, description="start from the live twin: buffer levels, machines down"
    )
    calibrate: str | None = Field(
        default=None,
        description="fit failures, repairs, setups and cycles to this much recent history, "
        "e.g. '7 d'; parameters with too little data keep their defaults",
    )


class SimulationOut(BaseModel):
    id: str
    status: str = Field(description="running, done or failed")
    progress: dict[str, int] = Field(description="finished runs and runs in all")
    created: str
    finished: str | None
    error: str | None
    result: dict[str, Any] | None = Field(description="per scenario: KPIs with 95 % CIs; table")


def get_service(request: Request) -> SimulationService:
    service: SimulationService = request.app.state.simulations
    return service


Service = Annotated[SimulationService, Depends(get_service)]


def _invalid(field: str, message: str) -> RequestValidationError:
    return RequestValidationError(
        [{"loc": ("body", field), "msg": message, "type": "value_error", "input": None}]
    )


@router.post(
    "/simulations",
    response_model=SimulationOut,
    status_code=202,
    summary="Start a what-if simulation study (runs in the background)",
)
async def simulation_start(
    body: SimulationRequest, ctx: Context, service: Service, _: Engineer
) -> SimulationOut:
    try:
        horizon_s = duration_ns(body.horizon) / 1e9 if body.horizon else None
    except ValueError as err:
        raise _invalid("horizon", str(err)) from err
    if horizon_s is not None and not 0 < horizon_s <= MAX_HORIZON_S:
        raise _invalid("horizon", "give a horizon above 0 and at most 5 years")
    try:
        since_s = duration_ns(body.calibrate) / 1e9 if body.calibrate else None
    except ValueError as err:
        raise _invalid("calibrate", str(err)) from err
    try:
        file = parse_scenario(body.scenario)
        built = base_line(file, ctx.plant, "scenario")
        if since_s:
            calibration = await calibrate_recent(built, ctx.plant, ctx.store, since_s=since_s)
            built = calibration.apply(built)
        study = study_for_plant(
            file, ctx.plant, built=built, horizon_s=horizon_s, replications=body.replications
        )
    except ScenarioError as err:
        raise _invalid("scenario", str(err)) from err
    start = start_from_twin(study.built, ctx.twin, ctx.clock.now_ns()) if body.from_now else None
    run = service.submit(study, start)
    return SimulationOut(**run.as_json())


@router.get(
    "/simulations/{run_id}",
    response_model=SimulationOut,
    summary="A simulation's progress, and its result once done",
    responses={404: {"description": "no simulation with this id"}},
)
async def simulation_get(
    run_id: Annotated[str, Path(max_length=64)], service: Service, _: Reader
) -> SimulationOut:
    found = await service.get(run_id)
    if found is None:
        msg = f"no simulation {run_id!r}"
        raise NotFoundError(msg)
    return SimulationOut(**found)

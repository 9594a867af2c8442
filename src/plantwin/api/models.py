"""Model registry routes: the registered trained models and their versions (read only)."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field

from plantwin.analytics.registry import ModelNotFoundError, ModelRegistry
from plantwin.api.auth import Reader
from plantwin.api.deps import Context
from plantwin.api.errors import NotFoundError
from plantwin.core.models import ModelInfo, ParamValue

router = APIRouter(prefix="/api/v1", tags=["models"])


class ModelOut(BaseModel):
    """One registered version of a trained model (its artifact stays in the store)."""

    name: str
    version: int = Field(description="1, 2, 3 ... per name; never replaced")
    kind: str = Field(description="what loads the artifact, e.g. rul.lightgbm-quantile")
    created: int = Field(description="ns UTC")
    data_start: int = Field(description="training data from (ns UTC)")
    data_end: int = Field(description="training data until (ns UTC, exclusive)")
    data_sources: list[str] = Field(description="twins or signal keys trained on")
    features: list[str]
    metrics: dict[str, float] = Field(description="held-out evaluation")
    params: dict[str, ParamValue]
    sha256: str = Field(description="SHA-256 of the artifact")
    size: int = Field(description="artifact bytes")


def _out(info: ModelInfo) -> ModelOut:
    return ModelOut(
        name=info.name,
        version=info.version,
        kind=info.kind,
        created=info.created,
        data_start=info.data_start,
        data_end=info.data_end,
        data_sources=list(info.data_sources),
        features=list(info.features),
        metrics=dict(info.metrics),
        params=dict(info.params),
        sha256=info.sha256,
        size=info.size,
    )


@router.get("/models", summary="Every registered model version, by name then version")
async def list_models(ctx: Context, _: Reader) -> list[ModelOut]:
    return [_out(i) for i in await ModelRegistry(ctx.store).list()]


@router.get("/models/{name}", summary="The versions of one model, oldest first")
async def model_versions(ctx: Context, _: Reader, name: str) -> list[ModelOut]:
    found = await ModelRegistry(ctx.store).list(name)
    if not found:
        msg = f"no model {name!r} is registered"
        raise NotFoundError(msg)
    return [_out(i) for i in found]


@router.get("/models/{name}/{version}", summary="One version of a model")
async def model_version(ctx: Context, _: Reader, name: str, version: int) -> ModelOut:
    try:
        return _out(await ModelRegistry(ctx.store).info(name, version))
    except ModelNotFoundError as err:
        raise NotFoundError(str(err)) from err

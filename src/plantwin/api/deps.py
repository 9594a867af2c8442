"""Dependencies shared by the routers: the runtime's context, handed in by ``create_app``."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from plantwin.api.context import ApiContext


def get_context(request: Request) -> ApiContext:
    context: ApiContext = request.app.state.context
    return context


Context = Annotated[ApiContext, Depends(get_context)]

"""/svc/{service}/api/...: every service's HTTP API through core-bus's origin (see proxy.py)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request, Response

from callisto_core_bus.proxy import Proxy
from callisto_protocol.ids import SERVICE_NAME_PATTERN

ServicePath = Annotated[str, Path(pattern=SERVICE_NAME_PATTERN, description="service name")]


def router(proxy: Proxy) -> APIRouter:
    api = APIRouter(tags=["proxy"])

    @api.api_route(
        "/svc/{service}/api/{path:path}",
        methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
        include_in_schema=False,  # the services' own OpenAPI documents what is behind it
    )
    async def forward(service: ServicePath, path: str, request: Request) -> Response:
        return await proxy.forward(service, path, request)

    return api

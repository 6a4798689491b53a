"""/api/v1/services: the registry and draining."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Path
from pydantic import BaseModel, Field

from callisto_core_bus.suite import Suite
from callisto_protocol.control import DrainStarted
from callisto_protocol.ids import SERVICE_NAME_PATTERN, TOKEN_PATTERN
from callisto_protocol.registry import InstanceStatus
from callisto_runtime.tokens import Claims

ServicePath = Annotated[str, Path(pattern=SERVICE_NAME_PATTERN, description="service name, e.g. core-bus")]
InstancePath = Annotated[str, Path(pattern=TOKEN_PATTERN, description="instance id")]


class DrainRequest(BaseModel):
    reason: str = Field(default="", max_length=200)


def router(suite: Suite) -> APIRouter:
    api = APIRouter(prefix="/api/v1/services", tags=["services"])
    may_read = suite.service.require("core-bus.services.read")
    may_drain = suite.service.require("core-bus.services.{service}.drain")

    @api.get("", summary="Every known instance, alive or recently gone")
    async def list_instances(claims: Claims = may_read) -> list[InstanceStatus]:
        return suite.instances()

    @api.get("/{service}", summary="The instances of one service")
    async def service_instances(service: ServicePath, claims: Claims = may_read) -> list[InstanceStatus]:
        return suite.instances(service)

    @api.get("/{service}/{instance}", summary="One instance")
    async def one_instance(
        service: ServicePath, instance: InstancePath, claims: Claims = may_read
    ) -> InstanceStatus:
        return suite.instance(service, instance)

    @api.post(
        "/{service}/{instance}/drain",
        status_code=202,
        summary="Ask an instance to stop taking new work",
        responses={
            404: {"description": "unknown instance"},
            409: {"description": "instance gone"},
            503: {"description": "the instance does not answer on the bus"},
        },
    )
    async def drain(
        service: ServicePath,
        instance: InstancePath,
        request: Annotated[DrainRequest | None, Body()] = None,
        claims: Claims = may_drain,
    ) -> DrainStarted:
        reason = request.reason if request is not None else ""
        return await suite.drain(service, instance, reason or "asked through the control API")

    return api

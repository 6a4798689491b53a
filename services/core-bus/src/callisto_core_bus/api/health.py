"""/api/v1/health: the health of the whole suite."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from callisto_core_bus.suite import Suite
from callisto_protocol.control import HealthStatus, SuiteHealth
from callisto_runtime.tokens import Claims


def router(suite: Suite) -> APIRouter:
    api = APIRouter(prefix="/api/v1", tags=["health"])
    may_read = suite.service.require("core-bus.health.read")

    @api.get(
        "/health",
        summary="Aggregated health of every service (503 when the suite is down)",
        response_model=SuiteHealth,
    )
    async def health(claims: Claims = may_read) -> JSONResponse:
        report = suite.health()
        status = 503 if report.status is HealthStatus.DOWN else 200
        return JSONResponse(report.model_dump(mode="json"), status_code=status)

    return api

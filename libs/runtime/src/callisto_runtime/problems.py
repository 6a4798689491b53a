"""RFC 9457 problem details for every HTTP error, with a stable ``error_id``."""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from callisto_runtime.errors import CallistoError

log = logging.getLogger(__name__)
PROBLEM_TYPE = "application/problem+json"


def problem(status: int, error_id: str, detail: str, **extra: Any) -> JSONResponse:
    body = {
        "type": f"https://callisto.dev/problems/{error_id}",
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
        "error_id": error_id,
        **extra,
    }
    return JSONResponse(body, status_code=status, media_type=PROBLEM_TYPE)


def install(app: FastAPI) -> None:
    @app.exception_handler(CallistoError)
    async def _callisto(request: Request, exc: CallistoError) -> JSONResponse:
        return problem(exc.status, exc.error_id, exc.message, details=exc.details, instance=request.url.path)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [{"loc": list(e["loc"]), "msg": e["msg"], "type": e["type"]} for e in exc.errors()[:50]]
        return problem(
            422,
            "invalid-request",
            "the request does not match the API",
            errors=errors,
            instance=request.url.path,
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        slug = HTTPStatus(exc.status_code).phrase.lower().replace(" ", "-")
        return problem(exc.status_code, slug, str(exc.detail), instance=request.url.path)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return problem(500, "internal-error", "the service failed unexpectedly", instance=request.url.path)

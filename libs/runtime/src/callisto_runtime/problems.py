"""RFC 9457 problem details for every HTTP error, with a stable ``error_id``, and their place in
OpenAPI: ``document`` declares the problems every operation can answer (422 for a request that does
not match, 401/403 where a token is required, 404 where the path names something, 413 where there is
a body; for the API also 400 for a request that contradicts itself, 404 for something it names
that does not exist and 503 while a dependency is away) as ``application/problem+json``; a route adds
its own with ``responses=responses(409)``."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

import asyncpg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import Send

from callisto_runtime.errors import CallistoError

log = logging.getLogger(__name__)
PROBLEM_TYPE = "application/problem+json"


class Problem(BaseModel):
    """An RFC 9457 problem; ``error_id`` is stable, ``details`` or ``errors`` say more."""

    model_config = ConfigDict(extra="allow")

    type: str
    title: str
    status: int
    detail: str
    error_id: str
    instance: str | None = None


_PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}


def responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI responses of a route for the problems it may answer besides the usual ones."""
    return {status: {"model": Problem, "description": HTTPStatus(status).phrase} for status in statuses}


def problem_body(status: int, error_id: str, detail: str, **extra: Any) -> dict[str, Any]:
    return {
        "type": f"https://callisto.dev/problems/{error_id}",
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
        "error_id": error_id,
        **extra,
    }


def problem(
    status: int, error_id: str, detail: str, headers: Mapping[str, str] | None = None, **extra: Any
) -> JSONResponse:
    body = problem_body(status, error_id, detail, **extra)
    return JSONResponse(body, status_code=status, media_type=PROBLEM_TYPE, headers=headers)


async def send_problem(send: Send, status: int, error_id: str, detail: str, **extra: Any) -> None:
    """Answer with a problem from ASGI middleware, before any route runs."""
    data = json.dumps(problem_body(status, error_id, detail, **extra)).encode()
    headers = [(b"content-type", PROBLEM_TYPE.encode()), (b"content-length", str(len(data)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": data})


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
        # keeps Allow on 405, WWW-Authenticate on 401
        return problem(exc.status_code, slug, str(exc.detail), headers=exc.headers, instance=request.url.path)

    @app.exception_handler(asyncpg.DataError)
    async def _refused_value(request: Request, exc: asyncpg.DataError) -> JSONResponse:
        # a value PostgreSQL cannot hold (out of range, NUL in text) that got past validation
        log.warning("value refused by PostgreSQL on %s %s: %s", request.method, request.url.path, exc)
        return problem(
            422, "invalid-value", "a value is out of range or not allowed", instance=request.url.path
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return problem(500, "internal-error", "the service failed unexpectedly", instance=request.url.path)


def document(app: FastAPI) -> None:
    """Give ``app`` an OpenAPI document whose operations declare the problems they can answer."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = get_openapi(
            title=app.title, version=app.version, routes=app.routes, description=app.description
        )
        schemas = schema.setdefault("components", {}).setdefault("schemas", {})
        schemas["Problem"] = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
        for schemas_name in ("HTTPValidationError", "ValidationError"):
            schemas.pop(schemas_name, None)
        for path, operations in schema.get("paths", {}).items():
            for operation in operations.values():
                _declare_problems(path, operation)
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def _declare_problems(path: str, operation: dict[str, Any]) -> None:
    answers: dict[str, Any] = operation.setdefault("responses", {})
    usual = [422]
    if operation.get("security"):
        usual += [401, 403]
    if "{" in path:
        usual.append(404)
    if "requestBody" in operation:
        usual.append(413)
    if path.startswith("/api/"):
        usual += [400, 404, 503]
    for code in usual:
        answers.setdefault(str(code), {"description": HTTPStatus(code).phrase})
    for status, answer in answers.items():
        if not (status.isdigit() and int(status) >= 400):
            continue
        content = answer.setdefault("content", {})
        declared = content.get("application/json", {}).get("schema") or {}
        if not declared or str(declared.get("$ref", "")).endswith(("/HTTPValidationError", "/Problem")):
            content.pop("application/json", None)  # what the route really answers: a problem
            content[PROBLEM_TYPE] = {"schema": _PROBLEM_REF}

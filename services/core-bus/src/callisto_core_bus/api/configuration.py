"""/api/v1/config: the configuration documents (read, history, diff, apply, roll back, export, import)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Header, Path, Query
from fastapi.responses import PlainTextResponse

from callisto_core_bus.configuration import (
    ConfigChange,
    ConfigDiff,
    ConfigImported,
    ConfigStore,
    ConfigSummary,
    ConfigView,
)
from callisto_protocol.configuration import DOCUMENT_PATTERN
from callisto_runtime.problems import responses
from callisto_runtime.tokens import Claims

DocumentPath = Annotated[str, Path(pattern=DOCUMENT_PATTERN, description="e.g. call-manager.dial-plan")]
YAML = "application/yaml"


def router(store: ConfigStore) -> APIRouter:
    api = APIRouter(prefix="/api/v1/config", tags=["configuration"])
    may_read = store.service.require("core-bus.config.read")
    may_write = store.service.require("core-bus.config.write")

    @api.get("", summary="Every document with its current version")
    async def documents(claims: Claims = may_read) -> list[ConfigSummary]:
        return [ConfigSummary.model_validate(view.model_dump()) for view in await store.documents()]

    @api.get(
        "/export", summary="The whole configuration as one YAML file (document name: body)",
        response_class=PlainTextResponse, responses={200: {"content": {YAML: {}}}},
    )  # fmt: skip
    async def export(claims: Claims = may_read) -> PlainTextResponse:
        return PlainTextResponse(await store.export(), media_type=YAML)

    @api.post(
        "/import", summary="Apply a file `export` wrote: every document validated by its owner first",
        responses=responses(503),
        openapi_extra={"requestBody": {"content": {YAML: {"schema": {"type": "string"}}}, "required": True}},
    )  # fmt: skip
    async def import_all(
        text: Annotated[str, Body(media_type=YAML)],
        comment: Annotated[str, Query(max_length=500)] = "imported",
        claims: Claims = may_write,
    ) -> ConfigImported:
        return await store.import_all(text, claims, comment)

    @api.get("/{document}", summary="A document: its current version, or ?version=N")
    async def read(
        document: DocumentPath, version: Annotated[int | None, Query(ge=1)] = None, claims: Claims = may_read
    ) -> ConfigView:
        return await store.read(document, version)

    @api.get("/{document}/history", summary="Every version kept, newest first")
    async def history(document: DocumentPath, claims: Claims = may_read) -> list[ConfigSummary]:
        return await store.history(document)

    @api.get("/{document}/diff", summary="What changed from one version to another (unified diff of YAML)")
    async def diff(
        document: DocumentPath,
        from_version: Annotated[int, Query(alias="from", ge=1)],
        to_version: Annotated[int, Query(alias="to", ge=1)],
        claims: Claims = may_read,
    ) -> ConfigDiff:
        return await store.diff(document, from_version, to_version)

    @api.put(
        "/{document}",
        summary="Apply a new version, validated by its owner (If-Match: the version it replaces)",
        responses=responses(412, 503),
    )  # fmt: skip
    async def apply(
        document: DocumentPath,
        change: ConfigChange,
        if_match: Annotated[str | None, Header(description="the version read, e.g. \"7\"")] = None,
        claims: Claims = may_write,
    ) -> ConfigSummary:
        expected = int(if_match.strip('"')) if if_match and if_match.strip('"').isdigit() else None
        return await store.apply(document, change, claims, expected=expected)

    @api.post(
        "/{document}/rollback", summary="Write an earlier version's body as the newest version",
        responses=responses(503),
    )  # fmt: skip
    async def rollback(
        document: DocumentPath, version: Annotated[int, Query(ge=1)], claims: Claims = may_write
    ) -> ConfigSummary:
        return await store.rollback(document, version, claims)

    return api

"""/api/v1/backups: take a backup now, list them, download one (restores are `callisto restore`: they
replace the state under the services, which are stopped for it)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from fastapi.responses import FileResponse

from callisto_core_bus.backups import NAME, Backups, BackupSummary
from callisto_runtime.problems import responses
from callisto_runtime.tokens import Claims

BackupName = Annotated[str, Path(pattern=NAME.pattern, description="e.g. callisto-20261207T031500Z.backup")]


def router(backups: Backups) -> APIRouter:
    api = APIRouter(prefix="/api/v1/backups", tags=["backups"])
    may_read = backups.service.require("core-bus.backups.read")
    may_take = backups.service.require("core-bus.backups.create")

    @api.get("", summary="The backups kept, newest first", responses=responses(503))
    async def list_backups(claims: Claims = may_read) -> list[BackupSummary]:
        return backups.listed()

    @api.post("", status_code=201, summary="Take a backup now", responses=responses(409, 500, 503))
    async def take_backup(claims: Claims = may_take) -> BackupSummary:
        return await backups.take(claims.subject)

    @api.get(
        "/{name}",
        summary="Download a backup (the archive `callisto restore` reads)",
        response_class=FileResponse,
        responses={200: {"content": {"application/octet-stream": {}}}, **responses(503)},
    )
    async def download(name: BackupName, claims: Claims = may_read) -> FileResponse:
        return FileResponse(backups.path(name), media_type="application/octet-stream", filename=name)

    return api

"""The operator client (clients/operator, built by bootstrap): ``/`` and ``/assets``, from the
configured ``CLIENT_DIR``. Nothing else is taken from that folder, so unknown paths stay the API's 404
problems. A folder without a build is said in the log and ``/`` answers 503 with the reason."""

from __future__ import annotations

import logging
from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, Field

from callisto_core_bus.errors import ClientNotBuilt
from callisto_runtime import Service
from callisto_runtime.tokens import Claims

log = logging.getLogger(__name__)


def serve(app: FastAPI, folder: Path) -> None:
    index = folder / "index.html"
    if not index.is_file():
        log.error("the operator client is not built in %s (bootstrap builds it): / answers 503", folder)
    page = APIRouter(tags=["client"])

    @page.get("/", include_in_schema=False, response_class=FileResponse)
    async def client() -> FileResponse:
        if not index.is_file():
            raise ClientNotBuilt(f"the operator client is not built in {folder}", {"folder": str(folder)})
        return FileResponse(index, headers={"Cache-Control": "no-cache"})

    app.include_router(page)
    if (folder / "assets").is_dir():
        app.mount("/assets", StaticFiles(directory=folder / "assets"), name="client-assets")


class ClientSettings(BaseModel):
    sip_url: str = Field(description="where the browser phone registers (SIP over WebSocket)")
    crm_url: str | None = Field(
        default=None, description="an external CRM's URL: {caller}, {call_id}, {contact_id}, {agent_id}"
    )
    wallboard_url: str | None = Field(default=None, description="snitch's wallboard, for supervisors")


def settings_router(service: Service, settings: ClientSettings) -> APIRouter:
    api = APIRouter(prefix="/api/v1", tags=["client"])

    @api.get("/client", summary="What the operator client needs to know of this deployment")
    async def client_settings(claims: Claims = service.authenticated()) -> ClientSettings:
        return settings

    return api

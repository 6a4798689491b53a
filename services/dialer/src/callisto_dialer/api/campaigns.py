"""/api/v1/campaigns: campaigns, their state, their contact lists (billing pushes them here)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request
from pydantic import BaseModel, Field

from callisto_dialer.campaign_desk import CampaignDesk, shown
from callisto_dialer.campaigns import Campaign, CampaignIn, CampaignNew, LogEntry, StateChange
from callisto_dialer.contact_list import EXTERNAL_ID, ContactIn, ListUnreadable, read_contacts, records_of
from callisto_dialer.errors import InvalidList, ListTooLarge
from callisto_dialer.settings import DialerSettings
from callisto_dialer.store import DialerStore
from callisto_protocol.dialer import CampaignFigures
from callisto_protocol.ids import TOKEN_PATTERN
from callisto_runtime import NotFound, Service
from callisto_runtime.problems import responses
from callisto_runtime.tokens import Claims

Live = Callable[[dict[str, Any]], Awaitable[CampaignFigures]]
CampaignId = Annotated[str, Path(pattern=TOKEN_PATTERN)]
ExternalId = Annotated[str, Path(pattern=EXTERNAL_ID)]
LIST_BODY = {
    "content": {
        "application/json": {"schema": {"type": "array", "items": ContactIn.model_json_schema()}},
        "text/csv": {"schema": {"type": "string"}},
    },
    "required": True,
}


class ImportReport(BaseModel):
    rows: int
    added: int
    updated: int = Field(description="known by their external id: changed, their attempts kept")
    removed: int
    on_dnc: int = Field(description="contacts with a number on a do-not-call list: kept, never dialled on it")


class Contact(BaseModel):
    external_id: str
    name: str
    numbers: list[str]
    zones: list[str] = Field(description="the time zones it is called in: the hours must hold in each")
    amount_owed: Decimal | None
    due_date: date | None
    attributes: dict[str, str]
    state: Literal["pending", "calling", "done", "removed"]
    attempts: int
    next_at: datetime | None
    outcome: str | None
    imported_at: datetime
    updated_at: datetime


def router(
    service: Service, desk: CampaignDesk, store: DialerStore, settings: DialerSettings, live: Live
) -> APIRouter:
    api = APIRouter(prefix="/api/v1/campaigns", tags=["campaigns"])
    may_read = service.require("dialer.campaigns.read")
    may_update = service.require("dialer.campaigns.update")

    @api.post("", status_code=201, summary="Create a campaign (a draft)", responses=responses(409))
    async def create(body: CampaignNew, claims: Claims = may_update) -> Campaign:
        return Campaign.model_validate(await desk.create(body, claims.subject))

    @api.get("", summary="The campaigns, by priority (finished ones with finished=true)")
    async def campaigns(finished: bool = False, _: Claims = may_read) -> list[Campaign]:
        return [Campaign.model_validate(shown(row)) for row in await store.campaigns(finished)]

    @api.get("/{campaign_id}", summary="One campaign", responses=responses(404))
    async def campaign(campaign_id: CampaignId, _: Claims = may_read) -> Campaign:
        return Campaign.model_validate(shown(await store.campaign(campaign_id)))

    @api.put(
        "/{campaign_id}",
        summary="Change a campaign's settings (not while it runs)",
        responses=responses(404, 409),
    )
    async def change(campaign_id: CampaignId, body: CampaignIn, claims: Claims = may_update) -> Campaign:
        return Campaign.model_validate(await desk.change(campaign_id, body, claims.subject))

    @api.post(
        "/{campaign_id}/state",
        summary="Schedule, start, pause, resume, stop or complete a campaign",
        responses=responses(404, 409),
    )
    async def act(campaign_id: CampaignId, body: StateChange, claims: Claims = may_update) -> Campaign:
        return Campaign.model_validate(await desk.act(campaign_id, body.action, claims.subject, body.reason))

    @api.get("/{campaign_id}/figures", summary="The campaign's figures now", responses=responses(404))
    async def figures(campaign_id: CampaignId, _: Claims = may_read) -> CampaignFigures:
        return await live(await store.campaign(campaign_id))

    @api.get("/{campaign_id}/log", summary="Every state the campaign went through", responses=responses(404))
    async def log(campaign_id: CampaignId, _: Claims = may_read) -> list[LogEntry]:
        return [LogEntry.model_validate(row) for row in await store.log(campaign_id)]

    @api.post(
        "/{campaign_id}/contacts",
        summary="Import contacts: a JSON array or a CSV file; added, updated by external id, removed",
        description="Every row is checked first: a list with a bad row is refused whole (422, each row's "
        "errors), so nothing is half-written. Idempotent: the same list again changes nothing.",
        openapi_extra={"requestBody": LIST_BODY},
        responses=responses(404, 409, 413, 422),
    )
    async def import_contacts(
        campaign_id: CampaignId, request: Request, claims: Claims = service.require("dialer.lists.import")
    ) -> ImportReport:
        await store.campaign(campaign_id)  # an unknown campaign: 404 before the body is read

        body = await request.body()  # the service's body limit (max_body_bytes) refused a larger one
        kind = request.headers.get("content-type", "application/json")
        form = "csv" if "csv" in kind.lower() else "json"
        try:  # parsing a big list takes seconds: off the event loop
            records = await asyncio.to_thread(records_of, body, kind)
        except ListUnreadable as exc:
            raise InvalidList(
                str(exc), {"errors": [{"row": 0, "field": "(body)", "message": str(exc)}]}
            ) from exc
        if len(records) > settings.max_list_rows:
            raise ListTooLarge(
                f"a list is limited to {settings.max_list_rows} rows", {"limit": settings.max_list_rows}
            )
        contacts, errors = await asyncio.to_thread(read_contacts, records, settings.default_region)
        if errors:
            raise InvalidList(
                f"{len(errors)} rows are not right: nothing was imported",
                {"rows": len(records), "errors": [e.as_dict() for e in errors]},
            )
        return ImportReport.model_validate(
            await desk.import_contacts(campaign_id, contacts, claims.subject, form)
        )

    @api.get(
        "/{campaign_id}/contacts", summary="The campaign's contacts, by external id", responses=responses(404)
    )
    async def contacts(
        campaign_id: CampaignId,
        state: Literal["pending", "calling", "done", "removed"] | None = None,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
        offset: Annotated[int, Query(ge=0)] = 0,
        _: Claims = may_read,
    ) -> list[Contact]:
        return [
            Contact.model_validate(row) for row in await store.contacts(campaign_id, state, limit, offset)
        ]

    @api.get("/{campaign_id}/contacts/{external_id}", summary="One contact", responses=responses(404))
    async def contact(campaign_id: CampaignId, external_id: ExternalId, _: Claims = may_read) -> Contact:
        found = await store.contact(campaign_id, external_id)
        if found is None:
            raise NotFound(f"no contact {external_id!r} in {campaign_id!r}", {"external_id": external_id})
        return Contact.model_validate(found)

    @api.delete(
        "/{campaign_id}/contacts/{external_id}",
        status_code=204,
        summary="Take a contact off the list (it is not called again)",
        responses=responses(404, 409),
    )
    async def remove(
        campaign_id: CampaignId, external_id: ExternalId, _: Claims = service.require("dialer.lists.remove")
    ) -> None:
        if not await desk.remove_contact(campaign_id, external_id):
            raise NotFound(
                f"no contact {external_id!r} on the list of {campaign_id!r}", {"external_id": external_id}
            )

    return api

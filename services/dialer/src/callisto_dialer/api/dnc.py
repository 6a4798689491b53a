"""/api/v1/dnc: the do-not-call lists, the global one and each campaign's. A number on either is
never dialled for the campaign, whatever the list says and whenever it was added."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, Field

from callisto_dialer.campaigns import NUMBER_PATTERN
from callisto_dialer.store import DialerStore
from callisto_runtime import NotFound, Service
from callisto_runtime.problems import responses
from callisto_runtime.tokens import Claims

Number = Annotated[str, Path(pattern=NUMBER_PATTERN, description="E.164, with its +")]
ANY_OR_ONE = r"^([A-Za-z0-9_-]{1,64})?$"  # a campaign id, or '' for the global list
Campaign = Annotated[str, Query(pattern=ANY_OR_ONE, description="a campaign's list; empty: every campaign's")]


class DncEntry(BaseModel):
    number: str
    campaign_id: str = Field(description="'' on the global list")
    reason: str
    added_by: str
    added_at: datetime


class DncIn(BaseModel):
    reason: str = Field(default="", max_length=500)


def router(service: Service, store: DialerStore) -> APIRouter:
    api = APIRouter(prefix="/api/v1/dnc", tags=["do not call"])
    may_update = service.require("dialer.dnc.update")

    @api.get("", summary="The do-not-call entries (one campaign's, or all)")
    async def entries(
        campaign_id: Annotated[str | None, Query(pattern=ANY_OR_ONE)] = None,
        _: Claims = service.require("dialer.campaigns.read"),
    ) -> list[DncEntry]:
        return [DncEntry.model_validate(row) for row in await store.dnc(campaign_id)]

    @api.put(
        "/{number}", summary="Never call this number (for one campaign, or any)", responses=responses(404)
    )
    async def add(
        number: Number, body: DncIn, campaign_id: Campaign = "", claims: Claims = may_update
    ) -> DncEntry:
        return DncEntry.model_validate(await store.add_dnc(number, campaign_id, body.reason, claims.subject))

    @api.delete(
        "/{number}", status_code=204, summary="Take a number off a do-not-call list", responses=responses(404)
    )
    async def remove(number: Number, campaign_id: Campaign = "", _: Claims = may_update) -> None:
        if not await store.remove_dnc(number, campaign_id):
            raise NotFound(f"{number} is not on that list", {"number": number, "campaign_id": campaign_id})

    return api

"""/api/v1/call-cards: the card of each call (who, queue, agent, IVR input, wait, talk, outcome),
a caller's call history, a ticket opened from a card (pre-filled) or linked to it."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, ConfigDict, Field

from callisto_helpdesk.access import Scope
from callisto_helpdesk.api.views import CallCard
from callisto_helpdesk.book import ContactBook
from callisto_helpdesk.cards import CallCards
from callisto_helpdesk.desk import TicketDesk
from callisto_helpdesk.lifecycle import Level
from callisto_helpdesk.phones import lookup_key
from callisto_helpdesk.tickets import CATEGORY_PATTERN, Ticket, TicketIn
from callisto_protocol.ids import TOKEN_PATTERN
from callisto_runtime import BadRequest, Service
from callisto_runtime.tokens import Claims

CallPath = Annotated[str, Path(pattern=TOKEN_PATTERN, description="call id")]


class FromCall(BaseModel):
    """What the operator adds to what the card already says."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    subject: str | None = Field(default=None, min_length=1, max_length=200)
    description: str = Field(default="", max_length=20000)
    category_id: str | None = Field(default=None, pattern=CATEGORY_PATTERN)
    urgency: Level = Level.MEDIUM
    impact: Level = Level.MEDIUM
    assignee: str | None = Field(default=None, min_length=1, max_length=100)


class Link(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    ticket_id: str = Field(pattern=TOKEN_PATTERN)


def router(service: Service, cards: CallCards, book: ContactBook, desk: TicketDesk) -> APIRouter:
    api = APIRouter(prefix="/api/v1/call-cards", tags=["call cards"])
    signed_in = service.authenticated()  # what the token reaches: access.Scope
    may_create = service.require("helpdesk.tickets.create")

    @api.get("", summary="A contact's or a number's calls, newest first (the screen pop's history)")
    async def history(
        contact_id: Annotated[str | None, Query(pattern=TOKEN_PATTERN)] = None,
        number: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
        limit: Annotated[int, Query(ge=1, le=200)] = 20,
        claims: Claims = signed_in,
    ) -> list[CallCard]:
        scope = Scope.of(claims, "read")
        if contact_id is None and number is None:
            raise BadRequest("name a contact_id or a number", {})
        e164 = lookup_key(number, book.region) if number else None
        found = await cards.history(contact_id, e164, limit, scope)
        return [CallCard.model_validate(card) for card in found]

    @api.get("/{call_id}", summary="One call's card with the tickets about it")
    async def get(call_id: CallPath, claims: Claims = signed_in) -> CallCard:
        return CallCard.model_validate(await cards.get(call_id, Scope.of(claims, "read")))

    @api.post("/{call_id}/ticket", status_code=201, summary="Open a ticket from the call, pre-filled")
    async def ticket(call_id: CallPath, body: FromCall, claims: Claims = may_create) -> Ticket:
        card = await cards.get(call_id, Scope.of(claims, "read"))
        who = card["number"] or "an unknown number"
        if card["contact_id"]:
            who = (await book.store.get(card["contact_id"])).name
        subject = body.subject or f"Call from {who}"[:200]
        facts = [f"{step}: {digits}" for step, digits in card["ivr"].items()]
        description = "\n".join(
            [body.description, *(["IVR input: " + ", ".join(facts)] if facts else [])]
        ).strip()
        opened = TicketIn(
            subject=subject, description=description[:20000], category_id=body.category_id, channel="phone",
            urgency=body.urgency, impact=body.impact, contact_id=card["contact_id"], call_id=call_id,
            assignee=body.assignee,
        )  # fmt: skip
        return await desk.open(opened, claims.subject)

    @api.post("/{call_id}/links", summary="Say that the call is about an existing ticket")
    async def link(call_id: CallPath, body: Link, claims: Claims = signed_in) -> CallCard:
        scope = Scope.of(claims, "update")
        await desk.store.check_scope(body.ticket_id, scope)  # unknown-ticket when there is none
        await cards.get(call_id, scope)  # unknown-call-card when there is none
        await cards.link(call_id, body.ticket_id)
        return CallCard.model_validate(await cards.get(call_id))

    return api

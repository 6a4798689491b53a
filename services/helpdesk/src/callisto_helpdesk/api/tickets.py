"""/api/v1/tickets and /api/v1/categories: tickets opened by operators (often from a call),
portals and integrations, moved through their lifecycle, commented."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query

from callisto_helpdesk.desk import TicketDesk
from callisto_helpdesk.lifecycle import TicketState
from callisto_helpdesk.tickets import ActionIn, CommentIn, Ticket, TicketIn
from callisto_protocol.ids import TOKEN_PATTERN
from callisto_runtime import Service
from callisto_runtime.tokens import Claims

TicketPath = Annotated[str, Path(pattern=TOKEN_PATTERN, description="ticket id")]
Token = Annotated[str | None, Query(pattern=TOKEN_PATTERN)]


def router(service: Service, desk: TicketDesk) -> APIRouter:
    api = APIRouter(prefix="/api/v1", tags=["tickets"])
    may_read = service.require("helpdesk.tickets.read")
    may_create = service.require("helpdesk.tickets.create")
    may_update = service.require("helpdesk.tickets.update")

    @api.get("/categories", summary="The category tree (parents first) with each one's department")
    async def categories(claims: Claims = may_read) -> list[dict[str, Any]]:
        return await desk.store.categories()

    @api.post(
        "/tickets",
        status_code=201,
        summary="Open a ticket (priority from urgency x impact, department from the category)",
        responses={
            422: {"description": "unknown category or invalid fields"},
            404: {"description": "contact"},
        },
    )
    async def open_ticket(body: TicketIn, claims: Claims = may_create) -> Ticket:
        return await desk.open(body, claims.subject)

    @api.get("/tickets", summary="Tickets by state, assignee, contact or call; most urgent first")
    async def search(
        state: Annotated[TicketState | None, Query()] = None,
        assignee: Annotated[str | None, Query(max_length=100)] = None,
        contact_id: Token = None,
        call_id: Token = None,
        limit: Annotated[int, Query(ge=1, le=500)] = 100,
        claims: Claims = may_read,
    ) -> list[Ticket]:
        return await desk.store.search(
            state=state.value if state else None, assignee=assignee, contact_id=contact_id, call_id=call_id,
            limit=limit,
        )  # fmt: skip

    @api.get("/tickets/{ticket_id}", summary="One ticket with its comments and full history")
    async def get(ticket_id: TicketPath, claims: Claims = may_read) -> Ticket:
        return await desk.store.get(ticket_id)

    @api.post(
        "/tickets/{ticket_id}/actions",
        summary="Move the ticket: assign, start, pend, resume, resolve, ask_confirmation, confirm, reject, "
        "expire, reopen, merge",
        responses={409: {"description": "the ticket's state does not allow it"}},
    )
    async def act(ticket_id: TicketPath, body: ActionIn, claims: Claims = may_update) -> Ticket:
        return await desk.act(ticket_id, body, claims.subject)

    @api.post("/tickets/{ticket_id}/comments", status_code=201, summary="Comment (internal or public)")
    async def comment(ticket_id: TicketPath, body: CommentIn, claims: Claims = may_update) -> Ticket:
        return await desk.comment(ticket_id, body, claims.subject)

    return api

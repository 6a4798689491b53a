"""/api/v1/tickets and /api/v1/categories: tickets opened by operators (often from a call),
portals and integrations, moved through their lifecycle, commented."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, ConfigDict, Field

from callisto_helpdesk.access import Need, Scope
from callisto_helpdesk.api.views import Category
from callisto_helpdesk.cti import Cti
from callisto_helpdesk.desk import TicketDesk
from callisto_helpdesk.lifecycle import TicketState
from callisto_helpdesk.sla import Standing
from callisto_helpdesk.tickets import CATEGORY_PATTERN, ActionIn, CommentIn, Ticket, TicketIn, TicketPatch
from callisto_protocol.ids import TOKEN_PATTERN
from callisto_protocol.telephony import NUMBER_PATTERN, CallControlled, TransferKind
from callisto_runtime import BadRequest, Service
from callisto_runtime.problems import responses
from callisto_runtime.tokens import Claims

TicketPath = Annotated[str, Path(pattern=TOKEN_PATTERN, description="ticket id")]
Token = Annotated[str | None, Query(pattern=TOKEN_PATTERN)]


class CallRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    agent_id: str | None = Field(
        default=None, pattern=TOKEN_PATTERN, description="default: the caller's agent"
    )
    number: str | None = Field(
        default=None, pattern=NUMBER_PATTERN, description="default: the contact's first"
    )


class CategoryIn(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, max_length=200)
    parent_id: str | None = Field(default=None, pattern=CATEGORY_PATTERN)
    department: str | None = Field(
        default=None, pattern=r"^[a-z0-9-]{1,64}$", description="default: parent's"
    )


class TransferRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    call_id: str = Field(pattern=TOKEN_PATTERN)
    target_kind: TransferKind
    target: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_+*#-]+$")


def router(service: Service, desk: TicketDesk, cti: Cti) -> APIRouter:
    api = APIRouter(prefix="/api/v1", tags=["tickets"])
    signed_in = service.authenticated()  # what the token reaches: access.Scope
    may_create = service.require("helpdesk.tickets.create")

    async def reachable(ticket_id: str, claims: Claims, need: Need) -> None:
        await desk.store.check_scope(ticket_id, Scope.of(claims, need))

    @api.get("/categories", summary="The category tree (parents first) with each one's department")
    async def categories(claims: Claims = signed_in) -> list[Category]:
        Scope.of(claims, "read")
        return [Category.model_validate(row) for row in await desk.store.categories()]

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

    @api.put("/categories/{category_id}", summary="Add or rename a category, move it, give it a department")
    async def put_category(
        category_id: Annotated[str, Path(pattern=CATEGORY_PATTERN)],
        body: CategoryIn,
        claims: Claims = service.require("helpdesk.categories.update"),
    ) -> Category:
        return Category.model_validate(
            await desk.store.put_category(category_id, body.name, body.parent_id, body.department)
        )

    @api.delete("/categories/{category_id}", status_code=204, summary="Retire a category (tickets keep it)")
    async def retire_category(
        category_id: Annotated[str, Path(pattern=CATEGORY_PATTERN)],
        claims: Claims = service.require("helpdesk.categories.update"),
    ) -> None:
        await desk.store.retire_category(category_id)

    @api.get(
        "/tickets",
        summary="Tickets by state, assignee, department, SLA standing, contact or call; most urgent first, "
        "then the nearest resolution deadline; each with its SLA fields",
    )
    async def search(
        state: Annotated[TicketState | None, Query()] = None,
        assignee: Annotated[str | None, Query(max_length=100)] = None,
        department: Annotated[str | None, Query(max_length=64)] = None,
        sla: Annotated[Standing | None, Query(description="ok, warning or breached")] = None,
        contact_id: Token = None,
        call_id: Token = None,
        limit: Annotated[int, Query(ge=1, le=500)] = 100,
        claims: Claims = signed_in,
    ) -> list[Ticket]:
        return await desk.store.search(
            state=state.value if state else None, assignee=assignee, contact_id=contact_id, call_id=call_id,
            limit=limit, department=department, sla_standing=sla.value if sla else None,
            scope=Scope.of(claims, "read"),
        )  # fmt: skip

    @api.get("/tickets/{ticket_id}", summary="One ticket with its comments, full history and SLA standing")
    async def get(ticket_id: TicketPath, claims: Claims = signed_in) -> Ticket:
        await reachable(ticket_id, claims, "read")
        return await desk.get(ticket_id)

    @api.patch(
        "/tickets/{ticket_id}",
        summary="Correct subject, category (the department follows) or urgency and impact "
        "(the priority follows)",
    )
    async def patch(ticket_id: TicketPath, body: TicketPatch, claims: Claims = signed_in) -> Ticket:
        await reachable(ticket_id, claims, "update")
        return await desk.patch(ticket_id, body, claims.subject)

    @api.post(
        "/tickets/{ticket_id}/actions",
        summary="Move the ticket: assign, start, pend, resume, resolve, ask_confirmation, confirm, reject, "
        "expire, reopen, merge",
        responses={409: {"description": "the ticket's state does not allow it"}},
    )
    async def act(ticket_id: TicketPath, body: ActionIn, claims: Claims = signed_in) -> Ticket:
        await reachable(ticket_id, claims, "update")
        return await desk.act(ticket_id, body, claims.subject)

    @api.post("/tickets/{ticket_id}/comments", status_code=201, summary="Comment (internal or public)")
    async def comment(ticket_id: TicketPath, body: CommentIn, claims: Claims = signed_in) -> Ticket:
        await reachable(ticket_id, claims, "update")
        return await desk.comment(ticket_id, body, claims.subject)

    @api.post(
        "/tickets/{ticket_id}/call",
        summary="Call the ticket's contact: the agent's phone rings first",
        responses=responses(409),
    )
    async def call(ticket_id: TicketPath, body: CallRequest, claims: Claims = signed_in) -> CallControlled:
        await reachable(ticket_id, claims, "update")
        agent_id = body.agent_id or claims.agent_id
        if agent_id is None:
            raise BadRequest("name the agent whose phone rings first", {"ticket_id": ticket_id})
        return await cti.call_contact(ticket_id, agent_id, body.number, token=claims.token)

    @api.post(
        "/tickets/{ticket_id}/transfer",
        summary="Blind-transfer a live call about the ticket",
        responses=responses(409),
    )
    async def transfer(
        ticket_id: TicketPath, body: TransferRequest, claims: Claims = signed_in
    ) -> CallControlled:
        await reachable(ticket_id, claims, "update")
        return await cti.transfer(ticket_id, body.call_id, body.target_kind, body.target, token=claims.token)

    return api

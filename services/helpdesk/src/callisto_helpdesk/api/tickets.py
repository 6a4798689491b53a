"""/api/v1/tickets and /api/v1/categories: tickets opened by operators (often from a call),
portals and integrations, moved through their lifecycle, commented."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from fastapi import APIRouter, Path, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from callisto_helpdesk.access import Need, Scope
from callisto_helpdesk.api.views import Category
from callisto_helpdesk.cti import Cti
from callisto_helpdesk.desk import TicketDesk
from callisto_helpdesk.lifecycle import TicketState
from callisto_helpdesk.sla import Standing
from callisto_helpdesk.ticket_query import COUNT_CAP, Sort, TicketQuery
from callisto_helpdesk.tickets import CATEGORY_PATTERN, ActionIn, CommentIn, Ticket, TicketIn, TicketPatch
from callisto_protocol.ids import TOKEN_PATTERN
from callisto_protocol.telephony import NUMBER_PATTERN, CallControlled, TransferKind
from callisto_runtime import BadRequest, Service
from callisto_runtime.problems import responses
from callisto_runtime.tokens import Claims

TicketPath = Annotated[str, Path(pattern=TOKEN_PATTERN, description="ticket id")]
Token = Annotated[str | None, Query(pattern=TOKEN_PATTERN)]


class View(StrEnum):
    OPEN = "open"
    BREACHING = "breaching"
    UNASSIGNED = "unassigned"


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
        summary="Tickets by queue view, state, assignee, team, department, category (with those below it), "
        "priority, SLA standing, contact, call or words in the subject and description (or a ticket "
        "number); one page of a sort, each with its SLA fields; X-Total-Count says how many match",
        responses={200: {"headers": {"X-Total-Count": {
            "description": f"tickets matching (at most {COUNT_CAP + 1}: more)", "schema": {"type": "integer"},
        }}}},
    )  # fmt: skip
    async def search(
        response: Response,
        state: Annotated[TicketState | None, Query()] = None,
        view: Annotated[
            View | None,
            Query(
                description="open: not closed or merged; breaching: SLA "
                "warning or breached; unassigned: open, nobody took it"
            ),
        ] = None,
        assignee: Annotated[str | None, Query(max_length=100)] = None,
        team: Annotated[
            str | None,
            Query(
                max_length=100,
                description="a staff id: theirs, their peers' (same manager) and their reports' tickets",
            ),
        ] = None,
        department: Annotated[str | None, Query(max_length=64)] = None,
        category: Annotated[str | None, Query(pattern=CATEGORY_PATTERN, description="and below")] = None,
        priority: Annotated[int | None, Query(ge=1, le=5)] = None,
        sla: Annotated[Standing | None, Query(description="ok, warning or breached")] = None,
        q: Annotated[str, Query(max_length=200, description="words (each a prefix) or a number")] = "",
        contact_id: Token = None,
        call_id: Token = None,
        sort: Sort = Sort.URGENT,
        limit: Annotated[int, Query(ge=1, le=500)] = 100,
        offset: Annotated[int, Query(ge=0, le=100_000)] = 0,
        claims: Claims = signed_in,
    ) -> list[Ticket]:
        query = TicketQuery(
            state=state.value if state else None, assignee=assignee, team=team, department=department,
            category=category, priority=priority, sla_standing=sla.value if sla else None,
            contact_id=contact_id, call_id=call_id, text=q, scope=Scope.of(claims, "read"),
            open_only=view in (View.OPEN, View.BREACHING, View.UNASSIGNED),
            breaching=view is View.BREACHING, unassigned=view is View.UNASSIGNED,
        )  # fmt: skip
        found, total = await desk.store.search(query, sort, limit, offset)
        response.headers["X-Total-Count"] = str(total)
        return found

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

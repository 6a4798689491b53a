"""/confirm/{ticket}: the page a resolved ticket's customer reaches from the resolution mail, to
confirm the ticket solved (it is closed) or say it is not (it goes back to work). Authorised by the
link's token, not a login. Everything shown is escaped (the ticket's text is whatever was written)."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import parse_qs

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse

from callisto_helpdesk.desk import TicketDesk
from callisto_helpdesk.errors import BadConfirmation
from callisto_helpdesk.mailer import templates
from callisto_helpdesk.tickets import Ticket
from callisto_protocol.ids import TOKEN_PATTERN

TicketPath = Annotated[str, Path(pattern=TOKEN_PATTERN)]


def page(ticket: Ticket, token: str, answered: str = "", status: int = 200) -> HTMLResponse:
    html = templates.get_template("confirm.html").render(
        ticket=ticket,
        token=token,
        answered=answered,
        public_comments=[c for c in ticket.comments if c["public"]],
    )
    return HTMLResponse(
        html,
        status_code=status,
        headers={"Content-Security-Policy": "default-src 'self'; style-src 'unsafe-inline'"},
    )


def router(desk: TicketDesk) -> APIRouter:
    api = APIRouter(tags=["confirmation"])

    @api.get("/confirm/{ticket_id}", response_class=HTMLResponse, summary="The customer's confirmation page")
    async def show(
        ticket_id: TicketPath, token: Annotated[str, Query(min_length=8, max_length=100)]
    ) -> HTMLResponse:
        ticket = await desk.store.get(ticket_id)
        if not await desk.confirmable(ticket_id, token):
            raise BadConfirmation("this link is no longer valid", {"ticket_id": ticket_id})
        return page(ticket, token)

    @api.post("/confirm/{ticket_id}", response_class=HTMLResponse, summary="The customer's answer (a form)")
    async def answer(ticket_id: TicketPath, request: Request) -> HTMLResponse:
        form = parse_qs((await request.body()).decode("utf-8", "replace"))
        token = form.get("token", [""])[0]
        solved = form.get("answer", [""])[0] == "yes"
        comment = form.get("comment", [""])[0].strip()[:2000]
        await desk.confirm(ticket_id, token, solved, comment)
        ticket = await desk.store.get(ticket_id)  # with the comment just written
        said = "Thank you: the request is closed." if solved else "Thank you: we are working on it again."
        return page(ticket, "", said)

    return api

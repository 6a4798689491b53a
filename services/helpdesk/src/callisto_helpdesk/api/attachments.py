"""/api/v1/tickets/{id}/attachments: files and voice notes sent as the request body (refused over
the limit, 413, before they are read whole), call recordings linked, downloads served as
attachments that browsers never render in place."""

from __future__ import annotations

from typing import Annotated, Literal
from urllib.parse import quote

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import RedirectResponse, Response

from callisto_helpdesk.access import Scope
from callisto_helpdesk.api.views import AttachmentInfo
from callisto_helpdesk.attachments import Attachments
from callisto_helpdesk.cards import CallCards
from callisto_helpdesk.ticket_store import TicketStore
from callisto_protocol.ids import TOKEN_PATTERN
from callisto_runtime import Service
from callisto_runtime.tokens import Claims

TicketPath = Annotated[str, Path(pattern=TOKEN_PATTERN, description="ticket id")]
CONTENT_TYPE = r"^[a-z]+/[A-Za-z0-9.+-]{1,100}$"


def router(service: Service, attachments: Attachments, cards: CallCards, tickets: TicketStore) -> APIRouter:
    api = APIRouter(prefix="/api/v1/tickets/{ticket_id}", tags=["attachments"])
    signed_in = service.authenticated()  # what the token reaches: access.Scope

    @api.post(
        "/attachments",
        status_code=201,
        summary="Attach a file or a voice note: the body is the file, its type the Content-Type",
        responses={413: {"description": "over the attachment limit"}},
    )
    async def attach(
        ticket_id: TicketPath,
        request: Request,
        name: Annotated[str, Query(min_length=1, max_length=255, pattern=r"^[^/\\\x00-\x1f]+$")],
        kind: Annotated[Literal["file", "voice-note"], Query()] = "file",
        claims: Claims = signed_in,
    ) -> AttachmentInfo:
        await tickets.check_scope(ticket_id, Scope.of(claims, "update"))
        declared = request.headers.get("content-length")
        content_type = request.headers.get("content-type", "application/octet-stream").split(";")[0].strip()
        if not content_type or len(content_type) > 100:
            content_type = "application/octet-stream"
        data = await attachments.read(
            request.stream(), int(declared) if declared and declared.isdigit() else None
        )
        return AttachmentInfo.model_validate(
            await attachments.add(ticket_id, kind, name, content_type, data, claims.subject)
        )

    @api.post(
        "/calls/{call_id}", status_code=204, summary="Link a call to the ticket (its recording follows)"
    )
    async def link_call(
        ticket_id: TicketPath,
        call_id: Annotated[str, Path(pattern=TOKEN_PATTERN)],
        claims: Claims = signed_in,
    ) -> None:
        await tickets.check_scope(ticket_id, Scope.of(claims, "update"))
        await attachments.ensure_ticket(ticket_id)
        await cards.link(call_id, ticket_id)

    @api.get(
        "/attachments/{attachment_id}",
        summary="Download (a recording: redirected to where it is served)",
        response_class=Response,
    )
    async def download(
        ticket_id: TicketPath,
        attachment_id: Annotated[str, Path(pattern=TOKEN_PATTERN)],
        claims: Claims = signed_in,
    ) -> Response:
        await tickets.check_scope(ticket_id, Scope.of(claims, "read"))
        found = await attachments.get(ticket_id, attachment_id)
        if found["url"] is not None:
            return RedirectResponse(found["url"], status_code=307)
        return Response(
            found["data"],
            media_type=found["content_type"],
            headers={
                "Content-Disposition": f"attachment; filename*=UTF-8''{quote(found['name'])}",
                "X-Content-Type-Options": "nosniff",
                "Content-Security-Policy": "sandbox",
                "ETag": f'"{found["sha256"]}"',
            },
        )

    return api

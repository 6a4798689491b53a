"""/api/v1/contacts: the contact book for operators and integrations."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response

from callisto_helpdesk.book import ContactBook
from callisto_helpdesk.contacts import Contact, ContactIn
from callisto_protocol.contacts import ContactMatch
from callisto_protocol.ids import TOKEN_PATTERN
from callisto_runtime import Service
from callisto_runtime.tokens import Claims

ContactPath = Annotated[str, Path(pattern=TOKEN_PATTERN, description="contact id")]


def router(service: Service, book: ContactBook) -> APIRouter:
    api = APIRouter(prefix="/api/v1/contacts", tags=["contacts"])
    may_read = service.require("helpdesk.contacts.read")
    may_update = service.require("helpdesk.contacts.update")

    @api.get("", summary="Search by name, number (any format), email or account")
    async def search(
        q: Annotated[str, Query(min_length=1, max_length=200)],
        limit: Annotated[int, Query(ge=1, le=200)] = 50,
        claims: Claims = may_read,
    ) -> list[Contact]:
        return await book.search(q, limit)

    @api.get("/lookup", summary="The screen pop: who has this number (any caller-id format)")
    async def lookup(
        number: Annotated[str, Query(min_length=1, max_length=64)], claims: Claims = may_read
    ) -> ContactMatch:
        return await book.lookup(number)

    @api.post(
        "",
        status_code=201,
        summary="Add a contact (numbers stored in E.164)",
        responses={409: {"description": "a number belongs to another contact"}},
    )
    async def create(body: ContactIn, claims: Claims = may_update) -> Contact:
        return await book.create(body)

    @api.get("/{contact_id}", summary="One contact")
    async def get(contact_id: ContactPath, claims: Claims = may_read) -> Contact:
        return await book.store.get(contact_id)

    @api.put("/{contact_id}", summary="Replace a contact (phones included)")
    async def put(contact_id: ContactPath, body: ContactIn, claims: Claims = may_update) -> Contact:
        return await book.replace(contact_id, body)

    @api.delete("/{contact_id}", status_code=204, summary="Remove a contact")
    async def delete(
        contact_id: ContactPath, claims: Claims = service.require("helpdesk.contacts.delete")
    ) -> Response:
        await book.delete(contact_id)
        return Response(status_code=204)

    return api

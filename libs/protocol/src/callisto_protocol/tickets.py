"""Tickets (helpdesk): every change of a ticket is an event, for operators' clients, notifications
and reports."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from callisto_protocol.ids import Token
from callisto_protocol.messages import Event


class TicketChanged(Event):
    message_type: ClassVar[str] = "tickets.changed"
    subject: ClassVar[str] = "cc.ticket.{ticket_id}.changed"
    ticket_id: Token
    number: int = Field(ge=1)
    action: Token = Field(description="created, assign, start, pend, resume, resolve, ..., commented")
    state: Token
    priority: int = Field(ge=1, le=5)
    category_id: str | None = Field(default=None, max_length=64)
    department: str = Field(max_length=64)
    assignee: str | None = Field(default=None, max_length=100)
    contact_id: Token | None = None
    call_id: Token | None = None
    actor: str = Field(max_length=100)

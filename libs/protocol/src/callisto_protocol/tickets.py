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
    publisher: ClassVar[str] = "helpdesk"
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


class TicketNotification(Event):
    """Somebody is told something about a ticket: assigned to them, a deadline near or missed, the
    ticket resolved (the customer, with a confirmation link), a critical alert (management). The
    operator client shows it; helpdesk also mails it when the recipient has an address."""

    message_type: ClassVar[str] = "tickets.notification"
    subject: ClassVar[str] = "cc.ticket.{ticket_id}.notification"
    publisher: ClassVar[str] = "helpdesk"
    notification_id: int = Field(ge=1)
    ticket_id: Token
    number: int = Field(ge=1)
    about: Token = Field(
        description="assigned, reassigned, sla_warning, sla_breach, escalated, resolved, received, "
        "critical_alert"
    )
    recipient: str = Field(max_length=320, description="a staff id, or an e-mail address")
    title: str = Field(max_length=300)
    target: str | None = Field(default=None, max_length=32, description="SLA: first_response or resolution")
    level: int = Field(default=0, ge=0, le=10, description="escalation level")

"""The only place helpdesk publishes from: contact and ticket changes (for operators' clients,
notifications and reports)."""

from __future__ import annotations

from callisto_helpdesk.contacts import Contact
from callisto_helpdesk.tickets import Ticket
from callisto_protocol.contacts import ContactChanged
from callisto_protocol.tickets import TicketChanged
from callisto_runtime import Bus


class Notifier:
    def __init__(self, bus: Bus) -> None:
        self.bus = bus

    async def changed(self, contact: Contact, change: str) -> None:
        await self.bus.publish(
            ContactChanged(contact_id=contact.contact_id, change=change, card=contact.card())
        )

    async def deleted(self, contact_id: str) -> None:
        await self.bus.publish(ContactChanged(contact_id=contact_id, change="deleted"))

    async def ticket(self, ticket: Ticket, action: str, actor: str) -> None:
        await self.bus.publish(
            TicketChanged(
                ticket_id=ticket.ticket_id, number=ticket.number, action=action, state=ticket.state,
                priority=ticket.priority, category_id=ticket.category_id, department=ticket.department,
                assignee=ticket.assignee, contact_id=ticket.contact_id, call_id=ticket.call_id,
                actor=actor[:100],
            ),
            correlation_id=ticket.call_id,
        )  # fmt: skip

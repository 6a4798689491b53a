"""CTI from a ticket: call its contact (the agent's phone rings first) or blind-transfer a live call,
through call-manager's bus commands; the call is linked to the ticket. The commands carry the token
of the person asking, never helpdesk's own: call-manager decides whose phone they may ring and which
calls they may move."""

from __future__ import annotations

from callisto_helpdesk.cards import CallCards
from callisto_helpdesk.errors import NoNumberToCall
from callisto_helpdesk.store import Store
from callisto_helpdesk.ticket_store import TicketStore
from callisto_protocol.telephony import CallControlled, OriginateCall, TransferCall, TransferKind
from callisto_runtime import Bus


class Cti:
    def __init__(self, bus: Bus, tickets: TicketStore, contacts: Store, cards: CallCards) -> None:
        self.bus = bus
        self.tickets = tickets
        self.contacts = contacts
        self.cards = cards

    async def call_contact(
        self, ticket_id: str, agent_id: str, number: str | None, *, token: str
    ) -> CallControlled:
        """Ring ``agent_id``'s phone, then ``number`` (default: the contact's first number)."""
        ticket = await self.tickets.get(ticket_id)
        if number is None:
            phones = (await self.contacts.get(ticket.contact_id)).phones if ticket.contact_id else []
            if not phones:
                raise NoNumberToCall(
                    f"ticket {ticket.number} has no contact number to call", {"ticket_id": ticket_id}
                )
            number = phones[0].number
        placed = await self.bus.call(
            OriginateCall(number=number, agent_id=agent_id), CallControlled, token=token
        )
        await self.cards.link(placed.call_id, ticket_id)
        return placed

    async def transfer(
        self, ticket_id: str, call_id: str, kind: TransferKind, target: str, *, token: str
    ) -> CallControlled:
        await self.tickets.get(ticket_id)
        moved = await self.bus.call(
            TransferCall(call_id=call_id, target_kind=kind, target=target), CallControlled, token=token
        )
        await self.cards.link(call_id, ticket_id)
        return moved

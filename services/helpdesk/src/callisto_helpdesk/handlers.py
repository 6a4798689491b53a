"""Bus side of helpdesk: the caller lookup (call-manager's IVR, operators' screen pop)."""

from __future__ import annotations

from callisto_helpdesk.book import ContactBook
from callisto_protocol import Envelope
from callisto_protocol.contacts import ContactMatch, LookupContact
from callisto_runtime import Bus


async def subscribe(bus: Bus, book: ContactBook) -> None:
    async def lookup(command: LookupContact, _: Envelope) -> ContactMatch:
        return await book.lookup(command.number)

    await bus.serve(LookupContact, lookup, permission="helpdesk.contacts.read")

"""The only place helpdesk publishes from: contact changes (for operators' clients and caches)."""

from __future__ import annotations

from callisto_helpdesk.contacts import Contact
from callisto_protocol.contacts import ContactChanged
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

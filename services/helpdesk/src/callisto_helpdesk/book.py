"""The contact book: numbers normalised on every write and lookup, changes published, the first
contacts loaded from a file."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import yaml

from callisto_helpdesk.contacts import Contact, ContactIn
from callisto_helpdesk.notifier import Notifier
from callisto_helpdesk.phones import lookup_key, normalize
from callisto_helpdesk.store import Phones, Store
from callisto_protocol import new_id
from callisto_protocol.contacts import ContactMatch

log = logging.getLogger(__name__)


class ContactBook:
    def __init__(self, store: Store, notifier: Notifier, region: str) -> None:
        self.store = store
        self.notifier = notifier
        self.region = region

    def _phones(self, body: ContactIn) -> Phones:
        """Every number in E.164 (a number written twice counts once); refuses the impossible ones."""
        found: Phones = []
        for phone in body.phones:
            number = normalize(phone.number, self.region)
            if all(number.e164 != seen.e164 for seen, _ in found):
                found.append((number, phone.label))
        return found

    async def create(self, body: ContactIn) -> Contact:
        contact = await self.store.save(new_id(), body, self._phones(body), create=True)
        await self.notifier.changed(contact, "created")
        return contact

    async def replace(self, contact_id: str, body: ContactIn) -> Contact:
        contact = await self.store.save(contact_id, body, self._phones(body), create=False)
        await self.notifier.changed(contact, "updated")
        return contact

    async def delete(self, contact_id: str) -> None:
        await self.store.delete(contact_id)
        await self.notifier.deleted(contact_id)

    async def lookup(self, raw: str) -> ContactMatch:
        """The contact a caller id belongs to (None when nobody, or when it is no number)."""
        key = lookup_key(raw, self.region)
        if key is None:
            return ContactMatch(number=None)
        contact = await self.store.by_number(key)
        return ContactMatch(number=key, contact=contact.card() if contact else None)

    async def search(self, text: str, limit: int) -> list[Contact]:
        return await self.store.search(text, lookup_key(text, self.region), limit)

    async def load_initial(self, records: list[dict[str, Any]]) -> int:
        """``records`` (see ``read_contacts``) when the book is empty; how many were added."""
        if not records or await self.store.count() > 0:
            return 0
        ids: dict[str, str] = {}  # the file's own keys -> contact ids
        for record in records:
            key = record.pop("key", None)
            if "organisation" in record:
                record["organisation_id"] = ids[record.pop("organisation")]
            contact = await self.create(ContactIn.model_validate(record))
            if key:
                ids[key] = contact.contact_id
        log.info("loaded %d contacts", len(records))
        return len(records)


def read_contacts(path: Path | None) -> list[dict[str, Any]]:
    """A YAML list of contacts (``ContactIn`` fields; ``key`` names one, ``organisation`` refers to an
    organisation's key above it)."""
    if path is None:
        return []
    records = yaml.safe_load(path.read_text()) or []
    if not isinstance(records, list):
        raise ValueError(f"{path}: a list of contacts is expected")
    return [dict(record) for record in records]

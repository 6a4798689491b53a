"""PostgreSQL access of helpdesk (schema ``helpdesk``), parameterised SQL only; every write is one
transaction, so a refused contact leaves nothing half-written."""

from __future__ import annotations

import json
from typing import Any

import asyncpg

from callisto_helpdesk.contacts import Contact, ContactIn, PhoneOut
from callisto_helpdesk.errors import NumberTaken, UnknownContact
from callisto_helpdesk.phones import PhoneNumber
from callisto_runtime.database import Database

SELECT = """
SELECT c.*, o.name AS organisation,
       coalesce((SELECT json_agg(json_build_object('number', p.e164, 'extension', p.extension,
                                                   'label', p.label) ORDER BY p.position)
                 FROM contact_phones p WHERE p.contact_id = c.id), '[]') AS phones
FROM contacts c LEFT JOIN contacts o ON o.id = c.organisation_id
"""

Phones = list[tuple[PhoneNumber, str]]


def _contact(row: asyncpg.Record) -> Contact:
    return Contact(
        contact_id=row["id"], kind=row["kind"], name=row["name"], organisation_id=row["organisation_id"],
        organisation=row["organisation"], phones=[PhoneOut(**p) for p in json.loads(row["phones"])],
        emails=list(row["emails"]), vip=row["vip"], personal_agent_id=row["personal_agent_id"],
        attributes=json.loads(row["attributes"]), created_at=row["created_at"], updated_at=row["updated_at"],
    )  # fmt: skip


class Store:
    def __init__(self, database: Database) -> None:
        self.db = database

    async def get(self, contact_id: str) -> Contact:
        row = await self.db.pool.fetchrow(SELECT + " WHERE c.id = $1", contact_id)
        if row is None:
            raise UnknownContact(f"no contact {contact_id!r}", {"contact_id": contact_id})
        return _contact(row)

    async def by_number(self, e164: str) -> Contact | None:
        row = await self.db.pool.fetchrow(
            SELECT + " WHERE c.id = (SELECT contact_id FROM contact_phones WHERE e164 = $1)", e164
        )
        return _contact(row) if row is not None else None

    async def count(self) -> int:
        return int(await self.db.pool.fetchval("SELECT count(*) FROM contacts"))

    async def save(self, contact_id: str, body: ContactIn, phones: Phones, *, create: bool) -> Contact:
        """Create the contact or replace it whole (phones included), in one transaction."""
        values: list[Any] = [
            contact_id, body.kind, body.name, body.organisation_id, body.vip, body.personal_agent_id,
            body.emails, json.dumps(body.attributes),
        ]  # fmt: skip
        async with self.db.pool.acquire() as conn, conn.transaction():
            if body.organisation_id is not None:
                kind = await conn.fetchval("SELECT kind FROM contacts WHERE id = $1", body.organisation_id)
                if kind != "organisation" or body.organisation_id == contact_id:
                    raise UnknownContact(
                        f"no organisation {body.organisation_id!r}", {"contact_id": body.organisation_id}
                    )
            if create:
                await conn.execute(
                    "INSERT INTO contacts (id, kind, name, organisation_id, vip, personal_agent_id, emails,"
                    " attributes) VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb)",
                    *values,
                )
            else:
                updated = await conn.execute(
                    "UPDATE contacts SET kind = $2, name = $3, organisation_id = $4, vip = $5,"
                    " personal_agent_id = $6, emails = $7, attributes = $8::jsonb, updated_at = now()"
                    " WHERE id = $1",
                    *values,
                )
                if updated == "UPDATE 0":
                    raise UnknownContact(f"no contact {contact_id!r}", {"contact_id": contact_id})
                await conn.execute("DELETE FROM contact_phones WHERE contact_id = $1", contact_id)
            for position, (phone, label) in enumerate(phones):
                owner = await conn.fetchval(
                    "INSERT INTO contact_phones (e164, contact_id, extension, label, position)"
                    " VALUES ($1, $2, $3, $4, $5) ON CONFLICT (e164) DO NOTHING RETURNING contact_id",
                    phone.e164, contact_id, phone.extension, label, position,
                )  # fmt: skip
                if owner is None:
                    raise NumberTaken(f"{phone.e164} belongs to another contact", {"number": phone.e164})
            row = await conn.fetchrow(SELECT + " WHERE c.id = $1", contact_id)
        return _contact(row)

    async def delete(self, contact_id: str) -> None:
        deleted = await self.db.pool.execute("DELETE FROM contacts WHERE id = $1", contact_id)
        if deleted == "DELETE 0":
            raise UnknownContact(f"no contact {contact_id!r}", {"contact_id": contact_id})

    async def search(self, text: str, e164: str | None, limit: int) -> list[Contact]:
        """By number (exact), account or email (exact), name (prefix first, then containing)."""
        rows = await self.db.pool.fetch(
            SELECT
            + """ WHERE c.id IN (SELECT contact_id FROM contact_phones WHERE e164 = $2)
                 OR c.attributes ->> 'account' = $1
                 OR lower($1) = ANY (c.emails)
                 OR lower(c.name) LIKE lower($3) || '%'
                 OR lower(c.name) LIKE '%' || lower($3) || '%'
               ORDER BY (lower(c.name) LIKE lower($3) || '%') DESC, c.name, c.id LIMIT $4""",
            text, e164, _like(text), limit,
        )  # fmt: skip
        return [_contact(row) for row in rows]


def _like(text: str) -> str:
    """``text`` for LIKE with its wildcards taken literally."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")

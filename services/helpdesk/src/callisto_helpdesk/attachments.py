"""Attachments of tickets: files and voice notes (stored in PostgreSQL with their SHA-256, refused
over the size limit before they are read whole) and call recordings (a link to where the recording
is served, attached by themselves to every ticket about the call once the recording exists)."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from typing import Any, Literal

from callisto_helpdesk.errors import AttachmentTooLarge, UnknownAttachment, UnknownTicket
from callisto_helpdesk.ticket_store import write_history
from callisto_protocol import new_id
from callisto_runtime.database import Database

Kind = Literal["file", "voice-note"]
# every ticket about a call (opened from it or linked to it) gets the call's recording, once
ATTACH_RECORDINGS = """
INSERT INTO attachments (id, ticket_id, kind, name, content_type, size, url, call_id, created_by)
SELECT 'rec-' || md5(x.ticket_id || r.url), x.ticket_id, 'recording', 'recording of call ' || r.call_id,
       'audio/*', 0, r.url, r.call_id, 'helpdesk'
FROM call_recordings r
JOIN (SELECT id AS ticket_id, call_id FROM tickets WHERE call_id IS NOT NULL
      UNION SELECT ticket_id, call_id FROM ticket_calls) x ON x.call_id = r.call_id
WHERE r.call_id = $1
ON CONFLICT DO NOTHING
"""


async def attach_recordings(conn: Any, call_id: str | None) -> None:
    if call_id is not None:
        await conn.execute(ATTACH_RECORDINGS, call_id)


class Attachments:
    def __init__(self, database: Database, max_bytes: int) -> None:
        self.db = database
        self.max_bytes = max_bytes

    def too_large(self, size: int) -> AttachmentTooLarge:
        return AttachmentTooLarge(
            f"attachments are limited to {self.max_bytes} bytes", {"limit": self.max_bytes, "size": size}
        )

    async def read(self, chunks: AsyncIterator[bytes], declared: int | None) -> bytes:
        """The whole body, refused as soon as it passes the limit (before reading when declared)."""
        if declared is not None and declared > self.max_bytes:
            raise self.too_large(declared)
        data = bytearray()
        async for chunk in chunks:
            data += chunk
            if len(data) > self.max_bytes:
                raise self.too_large(len(data))
        return bytes(data)

    async def add(
        self, ticket_id: str, kind: Kind, name: str, content_type: str, data: bytes, actor: str
    ) -> dict[str, Any]:
        attachment_id = new_id()
        digest = hashlib.sha256(data).hexdigest()
        async with self.db.pool.acquire() as conn, conn.transaction():
            state = await conn.fetchval("SELECT state FROM tickets WHERE id = $1 FOR UPDATE", ticket_id)
            if state is None:
                raise UnknownTicket(f"no ticket {ticket_id!r}", {"ticket_id": ticket_id})
            row = await conn.fetchrow(
                "INSERT INTO attachments (id, ticket_id, kind, name, content_type, size, sha256, data,"
                " created_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
                " RETURNING id AS attachment_id, kind, name, content_type, size, sha256, created_by,"
                " created_at",
                attachment_id, ticket_id, kind, name, content_type, len(data), digest, data, actor,
            )  # fmt: skip
            details = {"attachment_id": attachment_id, "name": name, "size": len(data)}
            await write_history(conn, ticket_id, actor, "attached", state, state, details)
        return dict(row)

    async def ensure_ticket(self, ticket_id: str) -> None:
        if not await self.db.pool.fetchval("SELECT 1 FROM tickets WHERE id = $1", ticket_id):
            raise UnknownTicket(f"no ticket {ticket_id!r}", {"ticket_id": ticket_id})

    async def get(self, ticket_id: str, attachment_id: str) -> dict[str, Any]:
        row = await self.db.pool.fetchrow(
            "SELECT * FROM attachments WHERE ticket_id = $1 AND id = $2", ticket_id, attachment_id
        )
        if row is None:
            raise UnknownAttachment(f"no attachment {attachment_id!r}", {"attachment_id": attachment_id})
        return dict(row)

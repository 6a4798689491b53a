"""PostgreSQL access for tickets, categories, history and comments (schema ``helpdesk``). A change
of a ticket and its history line are written in one transaction, the ticket row locked meanwhile."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

import asyncpg

from callisto_helpdesk.access import Scope
from callisto_helpdesk.errors import UnknownCategory, UnknownTicket
from callisto_helpdesk.lifecycle import Lifecycle, PendingOn, TicketState
from callisto_helpdesk.ticket_query import Sort, TicketQuery
from callisto_helpdesk.tickets import Ticket
from callisto_runtime.database import Database

# is $2 an ancestor of $1 (or $1 itself)?
CYCLE = """
WITH RECURSIVE up(id, parent_id) AS (
    SELECT id, parent_id FROM categories WHERE id = $1
    UNION SELECT c.id, c.parent_id FROM categories c JOIN up ON c.id = up.parent_id
) SELECT EXISTS (SELECT 1 FROM up WHERE id = $2)
"""
ATTACHMENT_COLUMNS = (
    "id AS attachment_id, kind, name, content_type, size, sha256, url, call_id, created_by, created_at"
)
After = Callable[[asyncpg.Connection, asyncpg.Record, asyncpg.Record], Awaitable[None]]


def ticket_from_row(
    row: Mapping[str, Any],
    comments: Sequence[Any] = (),
    history: Sequence[Any] = (),
    attachments: Sequence[Any] = (),
) -> Ticket:
    data = dict(row)
    data["ticket_id"] = data.pop("id")
    data.pop("sla_stage", None)
    data.pop("confirm_token", None)
    if isinstance(data.get("suggestion"), str):
        data["suggestion"] = json.loads(data["suggestion"])
    return Ticket(
        **data,
        comments=[dict(c) for c in comments],
        history=[{**dict(h), "details": json.loads(h["details"])} for h in history],
        attachments=[dict(a) for a in attachments],
    )


async def write_history(
    conn: Any,
    ticket_id: str,
    actor: str,
    action: str,
    from_state: str | None,
    to_state: str,
    details: dict[str, Any],
) -> None:
    """One line of a ticket's history, in the caller's transaction."""
    await conn.execute(
        "INSERT INTO ticket_history (ticket_id, actor, action, from_state, to_state, details)"
        " VALUES ($1, $2, $3, $4, $5, $6::jsonb)",
        ticket_id, actor, action, from_state, to_state, json.dumps(details, default=str),
    )  # fmt: skip


class TicketStore:
    def __init__(self, database: Database) -> None:
        self.db = database

    # categories ---------------------------------------------------------------------------------
    async def categories(self) -> list[dict[str, Any]]:
        rows = await self.db.pool.fetch("SELECT * FROM categories WHERE active ORDER BY position, id")
        return [dict(row) for row in rows]

    async def category(self, category_id: str) -> dict[str, Any] | None:
        row = await self.db.pool.fetchrow("SELECT * FROM categories WHERE id = $1 AND active", category_id)
        return dict(row) if row is not None else None

    async def seed_categories(self, rows: list[tuple[str, str | None, str, str, int]]) -> int:
        """(id, parent, name, department, position) when the tree is empty; how many were added."""
        async with self.db.pool.acquire() as conn, conn.transaction():
            if await conn.fetchval("SELECT count(*) FROM categories"):
                return 0
            await conn.executemany(
                "INSERT INTO categories (id, parent_id, name, department, position)"
                " VALUES ($1, $2, $3, $4, $5)",
                rows,
            )
        return len(rows)

    async def put_category(
        self, category_id: str, name: str, parent_id: str | None, department: str | None
    ) -> dict[str, Any]:
        async with self.db.pool.acquire() as conn, conn.transaction():
            parent = None
            if parent_id is not None:
                parent = await conn.fetchrow("SELECT * FROM categories WHERE id = $1 AND active", parent_id)
                if parent is None or parent_id == category_id:
                    raise UnknownCategory(f"no parent category {parent_id!r}", {"parent_id": parent_id})
                if await conn.fetchval(CYCLE, parent_id, category_id):
                    raise UnknownCategory("a category cannot sit under itself", {"parent_id": parent_id})
            own = department or (parent["department"] if parent else None) or "triage"
            row = await conn.fetchrow(
                "INSERT INTO categories (id, parent_id, name, department, position)"
                " VALUES ($1, $2, $3, $4, (SELECT coalesce(max(position) + 1, 0) FROM categories))"
                " ON CONFLICT (id) DO UPDATE SET parent_id = EXCLUDED.parent_id, name = EXCLUDED.name,"
                " department = EXCLUDED.department, active = true RETURNING *",
                category_id, parent_id, name, own,
            )  # fmt: skip
        return dict(row)

    async def retire_category(self, category_id: str) -> None:
        if (
            category_id == "triage"
            or await self.db.pool.execute(
                "UPDATE categories SET active = false WHERE id = $1 AND active", category_id
            )
            == "UPDATE 0"
        ):
            raise UnknownCategory(f"no category {category_id!r} to retire", {"category_id": category_id})

    # tickets ------------------------------------------------------------------------------------
    async def insert(
        self, values: dict[str, Any], actor: str, details: dict[str, Any], after: After | None = None
    ) -> Ticket:
        columns = ", ".join(values)
        marks = ", ".join(f"${n}" for n in range(1, len(values) + 1))
        async with self.db.pool.acquire() as conn, conn.transaction():
            row = await conn.fetchrow(
                f"INSERT INTO tickets ({columns}) VALUES ({marks}) RETURNING *",
                *values.values(),
            )
            await write_history(
                conn,
                row["id"],
                actor,
                "created",
                None,
                row["state"],
                {"priority": row["priority"], **details},
            )
            if after is not None:
                await after(conn, row, row)
        return ticket_from_row(row)

    async def get(self, ticket_id: str) -> Ticket:
        row = await self.db.pool.fetchrow("SELECT * FROM tickets WHERE id = $1", ticket_id)
        if row is None:
            raise UnknownTicket(f"no ticket {ticket_id!r}", {"ticket_id": ticket_id})
        comments = await self.db.pool.fetch(
            "SELECT id AS comment_id, author, public, body, created_at FROM ticket_comments"
            " WHERE ticket_id = $1 ORDER BY created_at, id",
            ticket_id,
        )
        history = await self.db.pool.fetch(
            "SELECT at, actor, action, from_state, to_state, details FROM ticket_history"
            " WHERE ticket_id = $1 ORDER BY id",
            ticket_id,
        )
        attachments = await self.db.pool.fetch(
            f"SELECT {ATTACHMENT_COLUMNS} FROM attachments WHERE ticket_id = $1 ORDER BY created_at, id",
            ticket_id,
        )
        return ticket_from_row(row, comments, history, attachments)

    async def search(
        self, query: TicketQuery, sort: Sort = Sort.URGENT, limit: int = 100, offset: int = 0
    ) -> tuple[list[Ticket], int]:
        """One page of the tickets ``query`` finds, and how many it finds (up to COUNT_CAP + 1)."""
        sql, args = query.page(sort, limit, offset)
        async with self.db.pool.acquire() as conn:
            rows = await conn.fetch(sql, *args)
            if offset == 0 and len(rows) < limit:
                total = len(rows)
            else:
                sql, args = query.count()
                total = await conn.fetchval(sql, *args)
        return [ticket_from_row(row) for row in rows], total

    async def check_scope(self, ticket_id: str, scope: Scope) -> None:
        """UnknownTicket unless the ticket exists and ``scope`` covers it (a ticket out of reach looks
        like one that does not exist)."""
        in_scope, scoped = scope.where(2)
        found = await self.db.pool.fetchval(
            f"SELECT 1 FROM tickets t WHERE t.id = $1 AND {in_scope}", ticket_id, *scoped
        )
        if not found:
            raise UnknownTicket(f"no ticket {ticket_id!r}", {"ticket_id": ticket_id})

    async def change(
        self,
        ticket_id: str,
        actor: str,
        action: str,
        apply: Callable[[Lifecycle], dict[str, Any]],
        note: str = "",
        after: After | None = None,
    ) -> Ticket:
        """Lock the ticket, let ``apply`` move its lifecycle (and name further columns to set), write
        the row and a history line, then ``after`` (old row, new row: notifications); all or
        nothing. The SLA engine looks at the ticket again."""
        async with self.db.pool.acquire() as conn, conn.transaction():
            row = await conn.fetchrow("SELECT * FROM tickets WHERE id = $1 FOR UPDATE", ticket_id)
            if row is None:
                raise UnknownTicket(f"no ticket {ticket_id!r}", {"ticket_id": ticket_id})
            closed_at = row["closed_at"].timestamp() if row["closed_at"] else None
            life = Lifecycle(
                TicketState(row["state"]), row["assignee"],
                PendingOn(row["pending_on"]) if row["pending_on"] else None, closed_at,
            )  # fmt: skip
            extra = apply(life)
            values: dict[str, Any] = {
                "state": life.state.value, "assignee": life.assignee,
                "pending_on": life.pending_on.value if life.pending_on else None, **extra,
            }  # fmt: skip
            sets = ", ".join(f"{name} = ${n}" for n, name in enumerate(values, start=2))
            new = await conn.fetchrow(
                f"UPDATE tickets SET {sets}, updated_at = now(), sla_check_at = now(),"
                f" closed_at = CASE WHEN ${len(values) + 2}::boolean THEN now() ELSE NULL END"
                " WHERE id = $1 RETURNING *",
                ticket_id, *values.values(), life.closed_at is not None,
            )  # fmt: skip
            details = {k: v for k, v in extra.items() if v is not None}
            if life.pending_on:
                details["pending_on"] = life.pending_on.value
            if life.assignee != row["assignee"]:
                details["assignee"] = life.assignee
            if note:
                details["note"] = note
            await write_history(conn, ticket_id, actor, action, row["state"], life.state.value, details)
            if after is not None:
                await after(conn, row, new)
        return ticket_from_row(new)

    async def patch(
        self, ticket_id: str, actor: str, values: dict[str, Any], note: str, after: After | None = None
    ) -> Ticket:
        """Set ``values`` (subject, category, urgency, impact, priority, department, suggestion) with a
        history line naming what changed from what; all or nothing."""
        async with self.db.pool.acquire() as conn, conn.transaction():
            row = await conn.fetchrow("SELECT * FROM tickets WHERE id = $1 FOR UPDATE", ticket_id)
            if row is None:
                raise UnknownTicket(f"no ticket {ticket_id!r}", {"ticket_id": ticket_id})
            changed = {k: v for k, v in values.items() if row[k] != v}
            if not changed:
                return ticket_from_row(row)
            sets = ", ".join(f"{name} = ${n}" for n, name in enumerate(changed, start=2))
            new = await conn.fetchrow(
                f"UPDATE tickets SET {sets}, updated_at = now(), sla_check_at = now()"
                " WHERE id = $1 RETURNING *",
                ticket_id, *changed.values(),
            )  # fmt: skip
            details: dict[str, Any] = {
                k: {"from": row[k], "to": v} for k, v in changed.items() if k != "suggestion"
            }
            if note:
                details["note"] = note
            await write_history(conn, ticket_id, actor, "updated", row["state"], row["state"], details)
            if after is not None:
                await after(conn, row, new)
        return ticket_from_row(new)

    async def comment(self, comment_id: str, ticket_id: str, author: str, body: str, public: bool) -> Ticket:
        async with self.db.pool.acquire() as conn, conn.transaction():
            row = await conn.fetchrow("SELECT * FROM tickets WHERE id = $1 FOR UPDATE", ticket_id)
            if row is None:
                raise UnknownTicket(f"no ticket {ticket_id!r}", {"ticket_id": ticket_id})
            await conn.execute(
                "INSERT INTO ticket_comments (id, ticket_id, author, public, body)"
                " VALUES ($1, $2, $3, $4, $5)",
                comment_id, ticket_id, author, public, body,
            )  # fmt: skip
            await write_history(
                conn, ticket_id, author, "commented", row["state"], row["state"],
                {"comment_id": comment_id, "public": public},
            )  # fmt: skip
            new = await conn.fetchrow(
                "UPDATE tickets SET updated_at = now(), sla_check_at = now() WHERE id = $1 RETURNING *",
                ticket_id,
            )
        return ticket_from_row(new)

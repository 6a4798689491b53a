"""PostgreSQL access for tickets, categories, history and comments (schema ``helpdesk``). A change
of a ticket and its history line are written in one transaction, the ticket row locked meanwhile."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

import asyncpg

from callisto_helpdesk.errors import UnknownTicket
from callisto_helpdesk.lifecycle import Lifecycle, PendingOn, TicketState
from callisto_helpdesk.tickets import Ticket
from callisto_runtime.database import Database


def _ticket(row: asyncpg.Record, comments: Sequence[Any] = (), history: Sequence[Any] = ()) -> Ticket:
    data = dict(row)
    data["ticket_id"] = data.pop("id")
    return Ticket(
        **data,
        comments=[dict(c) for c in comments],
        history=[{**dict(h), "details": json.loads(h["details"])} for h in history],
    )


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

    # tickets ------------------------------------------------------------------------------------
    async def insert(self, values: dict[str, Any], actor: str) -> Ticket:
        columns = ", ".join(values)
        marks = ", ".join(f"${n}" for n in range(1, len(values) + 1))
        async with self.db.pool.acquire() as conn, conn.transaction():
            row = await conn.fetchrow(
                f"INSERT INTO tickets ({columns}) VALUES ({marks}) RETURNING *",
                *values.values(),
            )
            await conn.execute(
                "INSERT INTO ticket_history (ticket_id, actor, action, to_state, details)"
                " VALUES ($1, $2, 'created', $3, $4::jsonb)",
                row["id"], actor, row["state"], json.dumps({"priority": row["priority"]}),
            )  # fmt: skip
        return _ticket(row)

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
        return _ticket(row, comments, history)

    async def search(
        self,
        *,
        state: str | None,
        assignee: str | None,
        contact_id: str | None,
        call_id: str | None,
        limit: int,
    ) -> list[Ticket]:
        rows = await self.db.pool.fetch(
            "SELECT * FROM tickets WHERE ($1::text IS NULL OR state = $1)"
            " AND ($2::text IS NULL OR assignee = $2)"
            " AND ($3::text IS NULL OR contact_id = $3) AND ($4::text IS NULL OR call_id = $4)"
            " ORDER BY priority, created_at LIMIT $5",
            state, assignee, contact_id, call_id, limit,
        )  # fmt: skip
        return [_ticket(row) for row in rows]

    async def change(
        self,
        ticket_id: str,
        actor: str,
        action: str,
        apply: Callable[[Lifecycle], dict[str, Any]],
        note: str = "",
    ) -> Ticket:
        """Lock the ticket, let ``apply`` move its lifecycle (and name further columns to set), write
        the row and a history line; all or nothing."""
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
                f"UPDATE tickets SET {sets}, updated_at = now(),"
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
            await conn.execute(
                "INSERT INTO ticket_history (ticket_id, actor, action, from_state, to_state, details)"
                " VALUES ($1, $2, $3, $4, $5, $6::jsonb)",
                ticket_id, actor, action, row["state"], life.state.value, json.dumps(details, default=str),
            )  # fmt: skip
        return _ticket(new)

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
            await conn.execute(
                "INSERT INTO ticket_history (ticket_id, actor, action, from_state, to_state, details)"
                " VALUES ($1, $2, 'commented', $3, $3, $4::jsonb)",
                ticket_id, author, row["state"], json.dumps({"comment_id": comment_id, "public": public}),
            )  # fmt: skip
            await conn.execute("UPDATE tickets SET updated_at = now() WHERE id = $1", ticket_id)
        return _ticket(row)

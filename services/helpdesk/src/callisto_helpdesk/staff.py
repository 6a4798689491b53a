"""Staff as notifications know them: name, address, manager, management (told of critical alerts).
Ids are those of auth's users and agents (assignees, creators, escalation levels)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field

from callisto_helpdesk.contacts import EMAIL_PATTERN
from callisto_helpdesk.errors import UnknownStaff
from callisto_runtime.database import Database

STAFF_ID = r"^[A-Za-z0-9_.@-]{1,100}$"


class StaffIn(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, max_length=200)
    email: str | None = Field(default=None, pattern=EMAIL_PATTERN, max_length=320)
    manager_id: str | None = Field(default=None, pattern=STAFF_ID)
    management: bool = False


def read_staff(path: Path | None) -> list[dict[str, Any]]:
    if path is None:
        return []
    people = yaml.safe_load(path.read_text()) or []
    for person in people:
        StaffIn(**{k: v for k, v in person.items() if k != "id"})  # a bad file stops the start
    return list(people)


class StaffDirectory:
    def __init__(self, database: Database) -> None:
        self.db = database

    async def everyone(self) -> list[dict[str, Any]]:
        return [dict(r) for r in await self.db.pool.fetch("SELECT * FROM staff ORDER BY id")]

    async def put(self, staff_id: str, body: StaffIn) -> dict[str, Any]:
        row = await self.db.pool.fetchrow(
            "INSERT INTO staff (id, name, email, manager_id, management) VALUES ($1, $2, $3, $4, $5)"
            " ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, email = EXCLUDED.email,"
            " manager_id = EXCLUDED.manager_id, management = EXCLUDED.management RETURNING *",
            staff_id, body.name, body.email.lower() if body.email else None, body.manager_id, body.management,
        )  # fmt: skip
        return dict(row)

    async def delete(self, staff_id: str) -> None:
        if await self.db.pool.execute("DELETE FROM staff WHERE id = $1", staff_id) == "DELETE 0":
            raise UnknownStaff(f"no staff member {staff_id!r}", {"staff_id": staff_id})

    async def seed(self, people: list[dict[str, Any]]) -> int:
        async with self.db.pool.acquire() as conn, conn.transaction():
            if not people or await conn.fetchval("SELECT count(*) FROM staff"):
                return 0
            await conn.executemany(
                "INSERT INTO staff (id, name, email, manager_id, management) VALUES ($1, $2, $3, $4, $5)",
                [(p["id"], p["name"], p.get("email"), p.get("manager_id"), bool(p.get("management")))
                 for p in people],
            )  # fmt: skip
        return len(people)

"""SLA policies as stored (table ``sla_policies``, calendars in ``sla_calendars``): edited through the
API, seeded from ``sla.yaml``, and the choice of the one that applies to a ticket."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
from pydantic import BaseModel, ConfigDict, Field

from callisto_helpdesk.errors import PolicyClash, UnknownCalendar, UnknownCategory, UnknownPolicy
from callisto_helpdesk.sla import Policy, Targets, calendar_from_spec, read_sla
from callisto_helpdesk.tickets import CATEGORY_PATTERN
from callisto_runtime.database import Database

DEFAULT_SLA = Path(__file__).with_name("sla.yaml")
POLICY_ID = r"^[a-z0-9-]{1,64}$"


class PolicyIn(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    category_id: str | None = Field(default=None, pattern=CATEGORY_PATTERN, description="None: any")
    priority: int | None = Field(default=None, ge=1, le=5, description="None: any")
    calendar: str = Field(pattern=POLICY_ID)
    first_response_s: int = Field(gt=0, le=10 * 365 * 86400)
    resolution_s: int = Field(gt=0, le=10 * 365 * 86400)
    warn_at: float = Field(default=0.8, ge=0.01, le=0.99, description="share of the target that warns")
    escalation: list[str] = Field(default=[], max_length=10, description="staff told on each breach")


@dataclass(frozen=True)
class PolicyBook:
    """Every policy by (category, priority), and the category tree to look up parents in."""

    policies: dict[tuple[str | None, int | None], Policy]
    parents: dict[str, str | None]

    def choose(self, category_id: str | None, priority: int) -> Policy | None:
        chain: list[str | None] = []
        seen = category_id
        while seen is not None and seen not in chain:
            chain.append(seen)
            seen = self.parents.get(seen)
        for key in [*((c, priority) for c in chain), *((c, None) for c in chain), (None, priority)]:
            if key in self.policies:
                return self.policies[key]
        return self.policies.get((None, None))


class PolicyStore:
    def __init__(self, database: Database) -> None:
        self.db = database

    async def book(self) -> PolicyBook:
        async with self.db.pool.acquire() as conn:
            calendars = {
                row["name"]: calendar_from_spec(json.loads(row["spec"]))
                for row in await conn.fetch("SELECT name, spec FROM sla_calendars")
            }
            rows = await conn.fetch("SELECT * FROM sla_policies")
            parents = {
                r["id"]: r["parent_id"] for r in await conn.fetch("SELECT id, parent_id FROM categories")
            }
        policies = {
            (row["category_id"], row["priority"]): Policy(
                calendars[row["calendar"]],
                Targets(row["first_response_s"], row["resolution_s"], row["warn_at"]),
                row["id"],
                tuple(row["escalation"]),
            )
            for row in rows
        }
        return PolicyBook(policies, parents)

    async def overview(self) -> dict[str, Any]:
        calendars = await self.db.pool.fetch("SELECT name, spec FROM sla_calendars ORDER BY name")
        rows = await self.db.pool.fetch(
            "SELECT * FROM sla_policies ORDER BY category_id NULLS LAST, priority"
        )
        return {
            "calendars": {row["name"]: json.loads(row["spec"]) for row in calendars},
            "policies": [{**dict(row), "warn_at": round(row["warn_at"], 3)} for row in rows],
        }

    async def seed(self, path: Path = DEFAULT_SLA) -> int:
        """The file's calendars and policies when there are no policies yet."""
        calendars, policies = read_sla(path)
        async with self.db.pool.acquire() as conn, conn.transaction():
            if await conn.fetchval("SELECT count(*) FROM sla_policies"):
                return 0
            for name, spec in calendars.items():
                await conn.execute(
                    "INSERT INTO sla_calendars (name, spec) VALUES ($1, $2::jsonb) ON CONFLICT DO NOTHING",
                    name, json.dumps(spec),
                )  # fmt: skip
            for spec in policies:
                fields = {k: v for k, v in spec.items() if k not in ("id", "category")}
                await self._write(conn, spec["id"], PolicyIn(category_id=spec.get("category"), **fields))
        return len(policies)

    async def put(self, policy_id: str, body: PolicyIn) -> dict[str, Any]:
        async with self.db.pool.acquire() as conn, conn.transaction():
            if not await conn.fetchval("SELECT 1 FROM sla_calendars WHERE name = $1", body.calendar):
                raise UnknownCalendar(f"no calendar {body.calendar!r}", {"calendar": body.calendar})
            if body.category_id is not None and not await conn.fetchval(
                "SELECT 1 FROM categories WHERE id = $1", body.category_id
            ):
                raise UnknownCategory(f"no category {body.category_id!r}", {"category_id": body.category_id})
            try:
                async with conn.transaction():
                    await self._write(conn, policy_id, body)
            except asyncpg.UniqueViolationError:
                raise PolicyClash(
                    "another policy has this category and priority",
                    {"category_id": body.category_id, "priority": body.priority},
                ) from None
            # tickets under a changed policy are looked at again by the engine
            await conn.execute(
                "UPDATE tickets SET sla_check_at = now() WHERE sla_policy_id = $1 OR sla_policy_id IS NULL"
                " OR ($2::text IS NOT NULL AND category_id = $2) OR ($3::int IS NOT NULL AND priority = $3)",
                policy_id, body.category_id, body.priority,
            )  # fmt: skip
        return {"id": policy_id, **body.model_dump()}

    async def delete(self, policy_id: str) -> None:
        async with self.db.pool.acquire() as conn, conn.transaction():
            if await conn.execute("DELETE FROM sla_policies WHERE id = $1", policy_id) == "DELETE 0":
                raise UnknownPolicy(f"no SLA policy {policy_id!r}", {"policy_id": policy_id})
            await conn.execute("UPDATE tickets SET sla_check_at = now() WHERE sla_policy_id = $1", policy_id)

    async def put_calendar(self, name: str, spec: dict[str, Any]) -> None:
        async with self.db.pool.acquire() as conn, conn.transaction():
            await conn.execute(
                "INSERT INTO sla_calendars (name, spec) VALUES ($1, $2::jsonb)"
                " ON CONFLICT (name) DO UPDATE SET spec = EXCLUDED.spec",
                name, json.dumps(spec),
            )  # fmt: skip
            await conn.execute(
                "UPDATE tickets SET sla_check_at = now() WHERE sla_policy_id IN"
                " (SELECT id FROM sla_policies WHERE calendar = $1)",
                name,
            )

    @staticmethod
    async def _write(conn: Any, policy_id: str, body: PolicyIn) -> None:
        await conn.execute(
            "INSERT INTO sla_policies (id, category_id, priority, calendar, first_response_s, resolution_s,"
            " warn_at, escalation) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
            " ON CONFLICT (id) DO UPDATE SET category_id = EXCLUDED.category_id,"
            " priority = EXCLUDED.priority, calendar = EXCLUDED.calendar,"
            " first_response_s = EXCLUDED.first_response_s, resolution_s = EXCLUDED.resolution_s,"
            " warn_at = EXCLUDED.warn_at, escalation = EXCLUDED.escalation",
            policy_id, body.category_id, body.priority, body.calendar, body.first_response_s,
            body.resolution_s, body.warn_at, body.escalation,
        )  # fmt: skip

"""PostgreSQL (schema ``dialer``): campaigns and their log, contacts, do-not-call lists, imports.
Parameterised SQL only; a contact list is written in one transaction (copied into a temporary table,
then merged), so an import is all there or not at all."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import asyncpg

from callisto_dialer.campaigns import Action, CampaignNew, next_state
from callisto_dialer.contact_list import Contact
from callisto_dialer.errors import CampaignExists, UnknownCampaign
from callisto_protocol import new_id
from callisto_protocol.dialer import CampaignState
from callisto_runtime.database import Database

COUNTS = """
    (SELECT count(*) FROM contacts k WHERE k.campaign_id = c.id AND k.state <> 'removed') AS contacts,
    (SELECT count(*) FROM contacts k WHERE k.campaign_id = c.id AND k.state IN ('pending', 'calling'))
        AS remaining
"""
INCOMING = (
    "external_id", "name", "numbers", "zones", "amount_owed", "due_date", "attributes", "remove"
)  # fmt: skip


class DialerStore:
    def __init__(self, database: Database, *, webhook: bool = False) -> None:
        self.db = database
        self.webhook = webhook  # a completed campaign is told to billing (webhooks.py)

    # campaigns ---------------------------------------------------------------------------------
    async def create(self, campaign: CampaignNew, by: str) -> dict[str, Any]:
        c = campaign
        async with self.db.pool.acquire() as conn, conn.transaction():
            try:
                await conn.execute(
                    "INSERT INTO campaigns (id, name, mode, queue_id, policy, caller_id, priority, starts_at,"
                    " ends_at, max_attempts, retries, holidays, recording, dispositions, message_prompt,"
                    " created_by, press_key, lines)"
                    " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17,"
                    " $18)",
                    c.id, c.name, c.mode.value, c.queue_id, c.policy, c.caller_id, c.priority, c.starts_at,
                    c.ends_at, c.max_attempts, c.retries.model_dump_json(), c.holidays, c.recording,
                    c.dispositions, c.message_prompt, by, c.press_key, c.lines,
                )  # fmt: skip
            except asyncpg.UniqueViolationError as exc:
                raise CampaignExists(f"campaign {c.id!r} exists", {"campaign_id": c.id}) from exc
            await conn.execute(
                "INSERT INTO campaign_log (campaign_id, state, action, by)"
                " VALUES ($1, 'draft', 'create', $2)",
                c.id, by,
            )  # fmt: skip
        return await self.campaign(c.id)

    async def update(self, campaign: CampaignNew, locked: Callable[[str], None]) -> dict[str, Any]:
        """New settings; ``locked(state)`` raises when the state (read under lock) allows none."""
        c = campaign
        async with self.db.pool.acquire() as conn, conn.transaction():
            state = await conn.fetchval("SELECT state FROM campaigns WHERE id = $1 FOR UPDATE", c.id)
            if state is None:
                raise UnknownCampaign(f"no campaign {c.id!r}", {"campaign_id": c.id})
            locked(state)
            await conn.execute(
            "UPDATE campaigns SET name = $2, mode = $3, queue_id = $4, policy = $5, caller_id = $6,"
            " priority = $7, starts_at = $8, ends_at = $9, max_attempts = $10, retries = $11,"
            " holidays = $12, recording = $13, dispositions = $14, message_prompt = $15, press_key = $16,"
            " lines = $17, updated_at = now()"
            " WHERE id = $1",
            c.id, c.name, c.mode.value, c.queue_id, c.policy, c.caller_id, c.priority, c.starts_at, c.ends_at,
            c.max_attempts, c.retries.model_dump_json(), c.holidays, c.recording, c.dispositions,
            c.message_prompt, c.press_key, c.lines,
            )  # fmt: skip
        return await self.campaign(c.id)

    async def campaign(self, campaign_id: str) -> dict[str, Any]:
        row = await self.db.pool.fetchrow(f"SELECT c.*, {COUNTS} FROM campaigns c WHERE id = $1", campaign_id)
        if row is None:
            raise UnknownCampaign(f"no campaign {campaign_id!r}", {"campaign_id": campaign_id})
        return _campaign(row)

    async def campaigns(self, finished: bool) -> list[dict[str, Any]]:
        where = "" if finished else "WHERE c.state NOT IN ('completed', 'stopped')"
        rows = await self.db.pool.fetch(
            f"SELECT c.*, {COUNTS} FROM campaigns c {where} ORDER BY c.priority, c.id"
        )
        return [_campaign(r) for r in rows]

    async def change_state(
        self, campaign_id: str, action: Action, by: str, reason: str
    ) -> tuple[CampaignState, CampaignState]:
        """The one place a campaign's state changes: the row locked, the transition checked, logged."""
        async with self.db.pool.acquire() as conn, conn.transaction():
            current = await conn.fetchval("SELECT state FROM campaigns WHERE id = $1 FOR UPDATE", campaign_id)
            if current is None:
                raise UnknownCampaign(f"no campaign {campaign_id!r}", {"campaign_id": campaign_id})
            previous = CampaignState(current)
            state = next_state(previous, action)
            await conn.execute(
                "UPDATE campaigns SET state = $2, updated_at = now() WHERE id = $1", campaign_id, state.value
            )
            if state is CampaignState.COMPLETED and self.webhook:  # in the same transaction: never lost
                await conn.execute(
                    "INSERT INTO webhooks (campaign_id, delivery_id, event)"
                    " VALUES ($1, $2, 'campaign.completed') ON CONFLICT (campaign_id) DO NOTHING",
                    campaign_id, new_id(),
                )  # fmt: skip
            await conn.execute(
                "INSERT INTO campaign_log (campaign_id, previous, state, action, by, reason)"
                " VALUES ($1, $2, $3, $4, $5, $6)",
                campaign_id, previous.value, state.value, action.value, by, reason,
            )  # fmt: skip
        return previous, state

    async def log(self, campaign_id: str) -> list[dict[str, Any]]:
        await self.campaign(campaign_id)
        rows = await self.db.pool.fetch(
            "SELECT at, previous, state, action, by, reason FROM campaign_log"
            " WHERE campaign_id = $1 ORDER BY id",
            campaign_id,
        )
        return [dict(r) for r in rows]

    # contacts ------------------------------------------------------------------------------------
    async def import_contacts(
        self, campaign_id: str, contacts: list[Contact], by: str, form: str, locked: Callable[[str], None]
    ) -> dict[str, int]:
        """Merge ``contacts`` into the campaign's list: new ones added, known ones (by external id)
        updated (attempts kept; a removed one comes back), ``remove`` rows taken off. ``locked(state)``
        raises when the campaign's state (read under lock) allows no change."""
        records = [
            (c.external_id, c.name, c.numbers, c.zones, c.amount_owed, c.due_date, json.dumps(c.attributes),
             c.remove)
            for c in contacts
        ]  # fmt: skip
        async with self.db.pool.acquire() as conn, conn.transaction():
            state = await conn.fetchval("SELECT state FROM campaigns WHERE id = $1 FOR UPDATE", campaign_id)
            if state is None:
                raise UnknownCampaign(f"no campaign {campaign_id!r}", {"campaign_id": campaign_id})
            locked(state)
            await conn.execute(
                "CREATE TEMPORARY TABLE incoming (external_id text, name text, numbers text[], zones text[],"
                " amount_owed numeric(14, 2), due_date date, attributes jsonb, remove boolean) ON COMMIT DROP"
            )
            await conn.copy_records_to_table("incoming", records=records, columns=INCOMING)
            added, updated = await conn.fetchrow(
                "WITH merged AS ("
                " INSERT INTO contacts AS k (campaign_id, external_id, name, numbers, zones, amount_owed,"
                " due_date, attributes)"
                " SELECT $1, external_id, name, numbers, zones, amount_owed, due_date, attributes"
                " FROM incoming WHERE NOT remove"
                " ON CONFLICT (campaign_id, external_id) DO UPDATE SET name = EXCLUDED.name,"
                " numbers = EXCLUDED.numbers, zones = EXCLUDED.zones, amount_owed = EXCLUDED.amount_owed,"
                " due_date = EXCLUDED.due_date, attributes = EXCLUDED.attributes, updated_at = now(),"
                " state = CASE WHEN k.state = 'removed' THEN 'pending' ELSE k.state END"
                " RETURNING (xmax = 0) AS inserted)"
                " SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted) FROM merged",
                campaign_id,
            )
            removed = await conn.fetchval(
                "WITH gone AS (UPDATE contacts k SET state = 'removed', updated_at = now() FROM incoming i"
                " WHERE k.campaign_id = $1 AND k.external_id = i.external_id AND i.remove"
                " AND k.state <> 'removed' RETURNING 1) SELECT count(*) FROM gone",
                campaign_id,
            )
            on_dnc = await conn.fetchval(
                "SELECT count(DISTINCT i.external_id) FROM incoming i, unnest(i.numbers) AS n(number)"
                " JOIN dnc d ON d.number = n.number AND d.campaign_id IN ('', $1) WHERE NOT i.remove",
                campaign_id,
            )
            await conn.execute(
                "INSERT INTO imports (campaign_id, by, format, rows, added, updated, removed)"
                " VALUES ($1, $2, $3, $4, $5, $6, $7)",
                campaign_id, by, form, len(records), added, updated, removed,
            )  # fmt: skip
        return {
            "rows": len(records),
            "added": added,
            "updated": updated,
            "removed": removed,
            "on_dnc": on_dnc,
        }

    async def contacts(
        self, campaign_id: str, state: str | None, limit: int, offset: int
    ) -> list[dict[str, Any]]:
        await self.campaign(campaign_id)
        rows = await self.db.pool.fetch(
            "SELECT * FROM contacts WHERE campaign_id = $1 AND ($2::text IS NULL OR state = $2)"
            " ORDER BY external_id LIMIT $3 OFFSET $4",
            campaign_id, state, limit, offset,
        )  # fmt: skip
        return [_contact(r) for r in rows]

    async def contact(self, campaign_id: str, external_id: str) -> dict[str, Any] | None:
        row = await self.db.pool.fetchrow(
            "SELECT * FROM contacts WHERE campaign_id = $1 AND external_id = $2", campaign_id, external_id
        )
        return _contact(row) if row else None

    async def remove_contact(self, campaign_id: str, external_id: str, locked: Callable[[str], None]) -> bool:
        async with self.db.pool.acquire() as conn, conn.transaction():
            state = await conn.fetchval("SELECT state FROM campaigns WHERE id = $1 FOR SHARE", campaign_id)
            if state is None:
                raise UnknownCampaign(f"no campaign {campaign_id!r}", {"campaign_id": campaign_id})
            locked(state)
            done = await conn.execute(
                "UPDATE contacts SET state = 'removed', updated_at = now()"
                " WHERE campaign_id = $1 AND external_id = $2 AND state <> 'removed'",
                campaign_id, external_id,
            )  # fmt: skip
        return bool(done.endswith(" 1"))

    # do not call -------------------------------------------------------------------------------
    async def dnc(self, campaign_id: str | None) -> list[dict[str, Any]]:
        rows = await self.db.pool.fetch(
            "SELECT * FROM dnc WHERE ($1::text IS NULL OR campaign_id = $1) ORDER BY number, campaign_id",
            campaign_id,
        )
        return [dict(r) for r in rows]

    async def add_dnc(self, number: str, campaign_id: str, reason: str, by: str) -> dict[str, Any]:
        if campaign_id:
            await self.campaign(campaign_id)
        row = await self.db.pool.fetchrow(
            "INSERT INTO dnc (number, campaign_id, reason, added_by) VALUES ($1, $2, $3, $4)"
            " ON CONFLICT (number, campaign_id) DO UPDATE SET reason = EXCLUDED.reason RETURNING *",
            number, campaign_id, reason, by,
        )  # fmt: skip
        assert row is not None
        return dict(row)

    async def remove_dnc(self, number: str, campaign_id: str) -> bool:
        done = await self.db.pool.execute(
            "DELETE FROM dnc WHERE number = $1 AND campaign_id = $2", number, campaign_id
        )
        return bool(done.endswith(" 1"))


def _campaign(row: asyncpg.Record) -> dict[str, Any]:
    found = dict(row)
    found["retries"] = json.loads(found["retries"])
    return found


def _contact(row: asyncpg.Record) -> dict[str, Any]:
    found = dict(row)
    found["attributes"] = json.loads(found["attributes"])
    return found

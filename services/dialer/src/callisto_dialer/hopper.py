"""The hopper: the next contacts a running campaign may call now, each attempt written down before its
number is dialled (with the rules checked), and where each contact stands once its attempt ended.

``take`` locks due contacts (``FOR UPDATE SKIP LOCKED``: two takers never get the same one), asks
``scheduling.plan`` about each with every call made to its numbers in the last 32 days (any campaign:
the policy counts calls to the person) and the do-not-call numbers, and in the same transaction writes
a planned attempt (the contact becomes ``calling``), a later time, or the contact's end."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import asyncpg

from callisto_dialer.campaigns import Retries
from callisto_dialer.dispositions import CALL_BACK, DO_NOT_CALL, DispositionIn
from callisto_dialer.errors import (
    DispositionExists,
    NotReached,
    UnknownAttempt,
    UnknownCampaign,
    UnknownDisposition,
)
from callisto_dialer.policies import POLICIES, Attempt, holidays_of
from callisto_dialer.scheduling import Dial, Finished, Later, Outcome, Rules, after_outcome, plan
from callisto_protocol import new_id
from callisto_runtime.database import Database

HISTORY = timedelta(days=32)  # a calendar month and the 72 hours after an abandoned call
ATTEMPT_PREFIX = "dl-"  # an attempt's id is its call's: the dialer's calls are told apart by it
CALLBACK_KEPT = timedelta(minutes=15)  # a call-back kept for its agent this long past its time
SCAN = 10  # contacts looked at per attempt wanted, at most, before the take gives up for now


def rules_of(campaign: Any) -> Rules:
    return Rules(
        policy=POLICIES[campaign["policy"]], holidays=holidays_of(campaign["holidays"]),
        max_attempts=campaign["max_attempts"], retries=Retries.model_validate_json(campaign["retries"]),
        ends_at=campaign["ends_at"],
    )  # fmt: skip


class Hopper:
    def __init__(self, database: Database) -> None:
        self.db = database

    async def take(
        self,
        campaign_id: str,
        wanted: int,
        now: datetime,
        agent_id: str | None = None,
        *,
        callbacks: bool = False,
    ) -> list[dict[str, Any]]:
        """Up to ``wanted`` attempts planned now (id, external_id, number, checked and the contact's
        card); with ``agent_id``, offered to that agent (preview: dialled agent first once they say), or
        with ``callbacks`` the call-backs promised by that agent, planned to ring them first.

        A call-back promised by an agent is theirs alone until ``CALLBACK_KEPT`` past its time; then it
        goes to whoever is free."""
        kept = now - CALLBACK_KEPT
        whose: tuple[str, tuple[Any, ...]]
        if callbacks:
            whose = "callback_agent_id = $4", (agent_id,)
        elif agent_id is not None:
            whose = "(callback_agent_id IS NULL OR callback_agent_id = $4 OR next_at <= $5)", (agent_id, kept)
        else:
            whose = "(callback_agent_id IS NULL OR next_at <= $4)", (kept,)
        planned: list[dict[str, Any]] = []
        async with self.db.pool.acquire() as conn, conn.transaction():
            campaign = await conn.fetchrow("SELECT * FROM campaigns WHERE id = $1 FOR SHARE", campaign_id)
            if campaign is None:
                raise UnknownCampaign(f"no campaign {campaign_id!r}", {"campaign_id": campaign_id})
            if campaign["state"] != "running" or wanted <= 0:
                return planned
            rules = rules_of(campaign)
            scanned = 0
            while len(planned) < wanted and scanned < wanted * SCAN:
                rows = await conn.fetch(
                    "SELECT external_id, name, numbers, zones, attempts, amount_owed, due_date, attributes"
                    " FROM contacts"
                    " WHERE campaign_id = $1 AND state = 'pending' AND (next_at IS NULL OR next_at <= $2)"
                    f" AND {whose[0]}"
                    " ORDER BY next_at NULLS FIRST, external_id LIMIT $3 FOR UPDATE SKIP LOCKED",
                    campaign_id, now, wanted - len(planned), *whose[1],
                )  # fmt: skip
                if not rows:
                    break
                scanned += len(rows)
                numbers = sorted({n for row in rows for n in row["numbers"]})
                calls = await conn.fetch(
                    "SELECT number, planned_at, outcome FROM attempts"
                    " WHERE number = ANY($1) AND planned_at > $2 AND outcome IS DISTINCT FROM 'skipped'",
                    numbers, now - HISTORY,
                )  # fmt: skip
                on_lists = await conn.fetch(
                    "SELECT number FROM dnc WHERE number = ANY($1) AND campaign_id IN ('', $2)",
                    numbers,
                    campaign_id,
                )
                blocked = frozenset(r["number"] for r in on_lists)
                for row in rows:
                    history = [
                        Attempt(c["planned_at"], c["outcome"] == Outcome.ABANDONED)
                        for c in calls
                        if c["number"] in row["numbers"]
                    ]
                    decided = plan(
                        rules, row["numbers"], row["zones"], row["attempts"], history, blocked, now
                    )
                    offered = agent_id is not None and not callbacks
                    planned += await self._write(conn, campaign, dict(row), decided, now, agent_id, offered)
        return planned

    async def _write(
        self, conn: Any, campaign: Any, contact: dict[str, Any], decided: Dial | Later | Finished,
        now: datetime, agent_id: str | None, offered: bool,
    ) -> list[dict[str, Any]]:  # fmt: skip
        key = (campaign["id"], contact["external_id"])
        if isinstance(decided, Later):
            await conn.execute(
                "UPDATE contacts SET next_at = $3, updated_at = now()"
                " WHERE campaign_id = $1 AND external_id = $2",
                *key, decided.at,
            )  # fmt: skip
            return []
        if isinstance(decided, Finished):
            await conn.execute(
                "UPDATE contacts SET state = 'done', outcome = $3, next_at = NULL, updated_at = now()"
                " WHERE campaign_id = $1 AND external_id = $2",
                *key, decided.outcome,
            )  # fmt: skip
            return []
        attempt_id = ATTEMPT_PREFIX + new_id()  # also the call's id
        await conn.execute(
            "INSERT INTO attempts (id, campaign_id, external_id, number, policy, checked, planned_at,"
            " agent_id, agent_first, state) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            attempt_id, *key, decided.number, campaign["policy"], list(decided.checked), now, agent_id,
            agent_id is not None, "offered" if offered else "planned",
        )  # fmt: skip
        await conn.execute(
            "UPDATE contacts SET state = 'calling', updated_at = now()"
            " WHERE campaign_id = $1 AND external_id = $2",
            *key,
        )  # fmt: skip
        return [{**contact, "id": attempt_id, "number": decided.number, "checked": decided.checked}]

    async def dialling(self, attempt_id: str, call_id: str, now: datetime) -> None:
        await self.db.pool.execute(
            "UPDATE attempts SET state = 'dialling', call_id = $2, dialled_at = $3"
            " WHERE id = $1 AND state = 'planned'",
            attempt_id, call_id, now,
        )  # fmt: skip

    async def finish(self, attempt_id: str, outcome: Outcome, now: datetime) -> str | None:
        """The attempt ended with ``outcome``: the contact is called again later, or is finished (its
        outcome returned). Once only: an attempt already ended changes nothing (None)."""
        async with self.db.pool.acquire() as conn, conn.transaction():
            attempt = await conn.fetchrow(
                "UPDATE attempts SET state = 'ended', outcome = $2, ended_at = $3"
                " WHERE id = $1 AND state <> 'ended' RETURNING campaign_id, external_id",
                attempt_id, outcome.value, now,
            )  # fmt: skip
            if attempt is None:
                return None
            campaign = await conn.fetchrow("SELECT * FROM campaigns WHERE id = $1", attempt["campaign_id"])
            made = await conn.fetchval(
                "UPDATE contacts SET attempts = attempts + $3, callback_agent_id = NULL, updated_at = now()"
                " WHERE campaign_id = $1 AND external_id = $2 RETURNING attempts",
                attempt["campaign_id"], attempt["external_id"], 0 if outcome is Outcome.SKIPPED else 1,
            )  # fmt: skip
            after = after_outcome(rules_of(campaign), outcome, made, now)
            if outcome is Outcome.ANSWERED:
                disposition = await conn.fetchrow(
                    "SELECT * FROM dispositions WHERE attempt_id = $1", attempt_id
                )
                if disposition is not None:  # recorded in wrap-up before the end was known here
                    return await self._apply(
                        conn, attempt["campaign_id"], attempt["external_id"], disposition
                    )
            if isinstance(after, Later):
                await conn.execute(
                    "UPDATE contacts SET state = 'pending', next_at = $3"
                    " WHERE campaign_id = $1 AND external_id = $2 AND state = 'calling'",
                    attempt["campaign_id"], attempt["external_id"], after.at,
                )  # fmt: skip
                return None
            await conn.execute(
                "UPDATE contacts SET state = 'done', outcome = $3, next_at = NULL"
                " WHERE campaign_id = $1 AND external_id = $2 AND state = 'calling'",
                attempt["campaign_id"], attempt["external_id"], after.outcome,
            )  # fmt: skip
            return after.outcome

    async def dispose(
        self,
        attempt_id: str,
        body: DispositionIn,
        by: str,
        may: Callable[[dict[str, Any]], None],
        now: datetime,
    ) -> dict[str, Any]:
        """Record the agent's disposition of an attempt (``may(attempt)`` raises for someone it is not
        theirs to record); it takes effect now if the attempt ended, else when it ends."""
        async with self.db.pool.acquire() as conn, conn.transaction():
            attempt = await conn.fetchrow(
                "SELECT a.*, c.dispositions AS codes FROM attempts a JOIN campaigns c ON c.id = a.campaign_id"
                " WHERE a.id = $1 FOR UPDATE OF a",
                attempt_id,
            )
            if attempt is None:
                raise UnknownAttempt(f"no attempt {attempt_id!r}", {"attempt_id": attempt_id})
            may(dict(attempt))
            if attempt["answered_at"] is None:
                raise NotReached("the customer never answered this attempt", {"attempt_id": attempt_id})
            if body.code not in attempt["codes"]:
                raise UnknownDisposition(
                    f"the campaign has no disposition {body.code!r}", {"allowed": list(attempt["codes"])}
                )
            if body.callback_at is not None and body.callback_at <= now:
                raise UnknownDisposition(
                    "a call-back is for a time to come", {"callback_at": str(body.callback_at)}
                )
            try:
                row = await conn.fetchrow(
                    "INSERT INTO dispositions (attempt_id, code, amount, promised_for, callback_at, note, by,"
                    " callback_agent_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING *",
                    attempt_id, body.code, body.amount, body.promised_for, body.callback_at, body.note, by,
                    attempt["agent_id"] if body.same_agent else None,
                )  # fmt: skip
            except asyncpg.UniqueViolationError as exc:
                raise DispositionExists(
                    "the attempt has its disposition", {"attempt_id": attempt_id}
                ) from exc
            assert row is not None
            if attempt["state"] == "ended":
                await self._apply(conn, attempt["campaign_id"], attempt["external_id"], row)
        return dict(row)

    async def _apply(self, conn: Any, campaign_id: str, external_id: str, disposition: Any) -> str:
        """What a disposition does to its contact; the contact's outcome."""
        key = (campaign_id, external_id)
        code = disposition["code"]
        if code == CALL_BACK:
            await conn.execute(
                "UPDATE contacts SET state = 'pending', next_at = $3, callback_agent_id = $4, outcome = NULL,"
                " updated_at = now() WHERE campaign_id = $1 AND external_id = $2 AND state <> 'removed'",
                *key, disposition["callback_at"], disposition["callback_agent_id"],
            )  # fmt: skip
            return CALL_BACK
        if code == DO_NOT_CALL:
            await conn.execute(
                "INSERT INTO dnc (number, campaign_id, reason, added_by)"
                " SELECT n, '', 'the contact asked, campaign ' || $1, $3"
                " FROM contacts, unnest(numbers) AS n WHERE campaign_id = $1 AND external_id = $2"
                " ON CONFLICT (number, campaign_id) DO NOTHING",
                *key, disposition["by"],
            )  # fmt: skip
        await conn.execute(
            "UPDATE contacts SET state = 'done', outcome = $3, next_at = NULL, updated_at = now()"
            " WHERE campaign_id = $1 AND external_id = $2 AND state <> 'removed'",
            *key, code,
        )  # fmt: skip
        return str(code)

    async def answered(self, attempt_id: str, at: datetime) -> dict[str, Any] | None:
        """The customer answered (the call reached the campaign's queue): the attempt, the first time."""
        row = await self.db.pool.fetchrow(
            "UPDATE attempts SET answered_at = $2 WHERE id = $1 AND answered_at IS NULL AND state <> 'ended'"
            " RETURNING *",
            attempt_id, at,
        )  # fmt: skip
        return dict(row) if row else None

    async def connected(self, attempt_id: str, agent_id: str | None, at: datetime) -> bool:
        done = await self.db.pool.execute(
            "UPDATE attempts SET connected_at = $3, agent_id = $2 WHERE id = $1 AND connected_at IS NULL",
            attempt_id, agent_id, at,
        )  # fmt: skip
        return bool(done.endswith(" 1"))

    async def agent_answered(self, attempt_id: str, at: datetime) -> bool:
        """The agent took an agent-first call (the customer is rung next)."""
        done = await self.db.pool.execute(
            "UPDATE attempts SET agent_answered_at = $2 WHERE id = $1 AND agent_answered_at IS NULL",
            attempt_id,
            at,
        )
        return bool(done.endswith(" 1"))

    async def engaged(self, campaign_id: str) -> dict[str, tuple[str, str]]:
        """Agents with a preview attempt under way: agent -> (attempt id, its state)."""
        rows = await self.db.pool.fetch(
            "SELECT agent_id, id, state FROM attempts"
            " WHERE campaign_id = $1 AND state <> 'ended' AND agent_first",
            campaign_id,
        )
        return {r["agent_id"]: (r["id"], r["state"]) for r in rows}

    async def to_dial(self, attempt_id: str) -> dict[str, Any] | None:
        """An offered attempt the agent chose to dial: planned now (None when it is not offered)."""
        row = await self.db.pool.fetchrow(
            "UPDATE attempts SET state = 'planned' WHERE id = $1 AND state = 'offered' RETURNING *",
            attempt_id,
        )
        return dict(row) if row else None

    async def attempt(self, attempt_id: str) -> dict[str, Any] | None:
        row = await self.db.pool.fetchrow(
            "SELECT a.*, c.mode, c.message_prompt FROM attempts a JOIN campaigns c ON c.id = a.campaign_id"
            " WHERE a.id = $1",
            attempt_id,
        )
        return dict(row) if row else None

    async def in_flight(self, campaign_id: str) -> list[dict[str, Any]]:
        """The campaign's attempts not ended: ringing (not answered) or waiting for an agent."""
        rows = await self.db.pool.fetch(
            "SELECT id, planned_at, dialled_at, answered_at, connected_at FROM attempts"
            " WHERE campaign_id = $1 AND state <> 'ended'",
            campaign_id,
        )
        return [dict(r) for r in rows]

    async def counts(self, campaign_id: str, since: datetime) -> tuple[int, int, int]:
        """Attempts dialled, live-answered and abandoned since ``since``."""
        row = await self.db.pool.fetchrow(
            "SELECT count(*) FILTER (WHERE dialled_at IS NOT NULL OR answered_at IS NOT NULL),"
            " count(*) FILTER (WHERE answered_at IS NOT NULL), count(*) FILTER (WHERE outcome = 'abandoned')"
            " FROM attempts WHERE campaign_id = $1 AND planned_at >= $2",
            campaign_id, since,
        )  # fmt: skip
        assert row is not None
        return int(row[0]), int(row[1]), int(row[2])

    async def stranded(self, older_than: datetime) -> list[str]:
        """Attempts planned before ``older_than`` that no call ever came of (a restart between the
        write and the dial): never dialled again, ended as failed by the caller."""
        rows = await self.db.pool.fetch(
            "SELECT id FROM attempts WHERE state = 'planned' AND answered_at IS NULL AND planned_at < $1",
            older_than,
        )
        return [r["id"] for r in rows]

    async def attempts(self, campaign_id: str, limit: int, offset: int) -> list[dict[str, Any]]:
        rows = await self.db.pool.fetch(
            "SELECT a.*, d.code AS disposition"
            " FROM attempts a LEFT JOIN dispositions d ON d.attempt_id = a.id"
            " WHERE a.campaign_id = $1 ORDER BY a.planned_at, a.id LIMIT $2 OFFSET $3",
            campaign_id, limit, offset,
        )  # fmt: skip
        return [dict(r) for r in rows]

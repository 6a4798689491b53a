"""PostgreSQL access (schema ``recording``): calls as call-manager told of them, conversion jobs,
recordings and the listens audit."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from callisto_protocol.calls import CallState, CallStateChanged
from callisto_recording.converter import Converted
from callisto_runtime.database import Database

LEASE = timedelta(minutes=10)  # a job taken and not finished by then (a crash) is taken again


class RecordingStore:
    def __init__(self, database: Database) -> None:
        self.db = database

    async def call_changed(self, event: CallStateChanged, settle: timedelta) -> None:
        """Keep who took the call; when it ends, a conversion job falls due after ``settle``."""
        ended = event.state is CallState.ENDED
        async with self.db.pool.acquire() as conn, conn.transaction():
            await conn.execute(
                "INSERT INTO calls (call_id, direction, caller, dialled, queue_id, agent_id, started_at,"
                " ended_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (call_id) DO UPDATE SET"
                " queue_id = coalesce(EXCLUDED.queue_id, calls.queue_id),"
                " agent_id = coalesce(EXCLUDED.agent_id, calls.agent_id),"
                " started_at = least(calls.started_at, EXCLUDED.started_at),"
                " ended_at = coalesce(EXCLUDED.ended_at, calls.ended_at)",
                event.call_id, event.direction.value, event.caller, event.dialled, event.queue_id,
                event.agent_id, event.since, event.since if ended else None,
            )  # fmt: skip
            if ended:
                await conn.execute(
                    "INSERT INTO jobs (call_id, due_at) VALUES ($1, $2) ON CONFLICT (call_id) DO NOTHING",
                    event.call_id, event.since + settle,
                )  # fmt: skip

    async def take_job(self, now: datetime) -> tuple[str, int, datetime | None] | None:
        """A due job (call id, attempts so far, when the call ended), leased for LEASE."""
        async with self.db.pool.acquire() as conn, conn.transaction():
            row = await conn.fetchrow(
                "SELECT j.call_id, j.attempts, c.ended_at FROM jobs j LEFT JOIN calls c USING (call_id)"
                " WHERE j.state = 'pending' AND j.due_at <= $1 ORDER BY j.due_at LIMIT 1"
                " FOR UPDATE OF j SKIP LOCKED",
                now,
            )
            if row is None:
                return None
            await conn.execute(
                "UPDATE jobs SET attempts = attempts + 1, due_at = $2, updated_at = now() WHERE call_id = $1",
                row["call_id"], now + LEASE,
            )  # fmt: skip
        return row["call_id"], row["attempts"], row["ended_at"]

    async def retry(self, call_id: str, at: datetime, reason: str | None = None) -> None:
        await self.db.pool.execute(
            "UPDATE jobs SET due_at = $2, reason = $3, updated_at = now() WHERE call_id = $1",
            call_id, at, reason,
        )  # fmt: skip

    async def finish(self, call_id: str, state: str, reason: str | None = None) -> None:
        await self.db.pool.execute(
            "UPDATE jobs SET state = $2, reason = $3, updated_at = now() WHERE call_id = $1",
            call_id, state, reason,
        )  # fmt: skip

    async def stored(
        self, recording_id: str, call_id: str, file: str, size: int, sha256: str, segments: int,
        converted: Converted,
    ) -> dict[str, Any]:  # fmt: skip
        """The recording's row and its job done, in one transaction; the row (an earlier one if the
        call was stored before a crash)."""
        async with self.db.pool.acquire() as conn, conn.transaction():
            await conn.execute(
                "INSERT INTO recordings (id, call_id, direction, caller, queue_id, agent_id, started_at,"
                " ended_at, duration_s, segments, file, size, sha256, ratios, spans)"
                " SELECT $1, c.call_id, c.direction, c.caller, c.queue_id, c.agent_id, c.started_at,"
                " c.ended_at, $3, $4, $5, $6, $7, $8::jsonb, $9::jsonb FROM calls c WHERE c.call_id = $2"
                " ON CONFLICT (call_id) DO NOTHING",
                recording_id, call_id, converted.decoded_s, segments, file, size, sha256,
                json.dumps(converted.ratios), json.dumps(converted.spans),
            )  # fmt: skip
            await conn.execute(
                "UPDATE jobs SET state = 'done', reason = NULL, updated_at = now() WHERE call_id = $1",
                call_id,
            )
            row = await conn.fetchrow("SELECT * FROM recordings WHERE call_id = $1", call_id)
        return recording_row(row)

    async def get(self, recording_id: str) -> dict[str, Any] | None:
        row = await self.db.pool.fetchrow("SELECT * FROM recordings WHERE id = $1", recording_id)
        return recording_row(row) if row else None

    async def search(
        self, *, call_id: str | None, agent_id: str | None, queue_id: str | None, number: str | None,
        since: datetime | None, until: datetime | None, limit: int, only_agent: str | None,
    ) -> list[dict[str, Any]]:  # fmt: skip
        rows = await self.db.pool.fetch(
            "SELECT * FROM recordings WHERE ($1::text IS NULL OR call_id = $1)"
            " AND ($2::text IS NULL OR agent_id = $2) AND ($3::text IS NULL OR queue_id = $3)"
            " AND ($4::text IS NULL OR caller LIKE '%' || $4)"
            " AND ($5::timestamptz IS NULL OR started_at >= $5)"
            " AND ($6::timestamptz IS NULL OR started_at < $6) AND ($8::text IS NULL OR agent_id = $8)"
            " ORDER BY started_at DESC LIMIT $7",
            call_id, agent_id, queue_id, number, since, until, limit, only_agent,
        )  # fmt: skip
        return [recording_row(r) for r in rows]

    async def listened(
        self, recording_id: str, subject: str, format: str, range_: str | None, allowed: bool
    ) -> None:
        await self.db.pool.execute(
            "INSERT INTO listens (recording_id, subject, format, range, allowed) VALUES ($1, $2, $3, $4, $5)",
            recording_id, subject, format, range_, allowed,
        )  # fmt: skip

    async def listens(self, recording_id: str) -> list[dict[str, Any]]:
        rows = await self.db.pool.fetch(
            "SELECT subject, at, format, range, allowed FROM listens WHERE recording_id = $1 ORDER BY id",
            recording_id,
        )
        return [dict(r) for r in rows]


def recording_row(row: Any) -> dict[str, Any]:
    data = dict(row)
    for name in ("ratios", "spans"):
        if isinstance(data.get(name), str):
            data[name] = json.loads(data[name])
    return data

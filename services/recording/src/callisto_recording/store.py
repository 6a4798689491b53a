"""PostgreSQL access (schema ``recording``): calls as call-manager told of them, conversion jobs,
recordings, the listens audit, retention (archive, mark, purge) and legal holds."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from callisto_protocol.calls import CallState, CallStateChanged
from callisto_recording.converter import Converted
from callisto_runtime.database import Database

# the classes a retention step takes: $1 only these (NULL: any), $2 none of these (NULL: none)
OF_CLASSES = "($1::text[] IS NULL OR class = ANY($1)) AND ($2::text[] IS NULL OR class <> ALL($2))"
LIVE = "deleted_at IS NULL"
AUDIT_HOLD = "INSERT INTO holds (recording_id, action, reason, by_subject) VALUES ($1, $2, $3, $4)"


@dataclass(frozen=True)
class Kept:
    """How a file was kept: sealed by a data key wrapped by master key ``key_id``, or not (None)."""

    key_id: str | None
    wrapped: bytes | None


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

    async def take_job(self, now: datetime, lease: timedelta) -> tuple[str, int, datetime | None] | None:
        """A due job (call id, attempts so far, when the call ended), leased: not finished by then
        (a crash), it is taken again."""
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
                row["call_id"], now + lease,
            )  # fmt: skip
        return row["call_id"], row["attempts"], row["ended_at"]

    async def job_state(self, call_id: str) -> str | None:
        """The call's job's state; "live" for a call answered and not ended; None: nothing known."""
        row = await self.db.pool.fetchrow(
            "SELECT j.state, c.call_id AS known, c.ended_at FROM (SELECT $1::text AS call_id) x"
            " LEFT JOIN jobs j USING (call_id) LEFT JOIN calls c USING (call_id)",
            call_id,
        )
        if row["state"] is not None:
            return str(row["state"])
        return "live" if row["known"] is not None and row["ended_at"] is None else None

    async def adopt(self, call_id: str, at: datetime) -> None:
        """A capture nobody told of: a call of unknown direction ended ``at``, its job due now."""
        async with self.db.pool.acquire() as conn, conn.transaction():
            await conn.execute(
                "INSERT INTO calls (call_id, direction, started_at, ended_at) VALUES ($1, 'unknown', $2, $2)"
                " ON CONFLICT (call_id) DO NOTHING",
                call_id, at,
            )  # fmt: skip
            await conn.execute(
                "INSERT INTO jobs (call_id, due_at) VALUES ($1, now()) ON CONFLICT (call_id) DO NOTHING",
                call_id,
            )

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
        converted: Converted, class_of: Callable[[str | None, str], str], kept: Kept,
    ) -> dict[str, Any]:  # fmt: skip
        """The recording's row and its job done, in one transaction; the row (an earlier one if the
        call was stored before a crash)."""
        async with self.db.pool.acquire() as conn, conn.transaction():
            call = await conn.fetchrow("SELECT queue_id, direction FROM calls WHERE call_id = $1", call_id)
            retention_class = class_of(call["queue_id"], call["direction"]) if call else "default"
            await conn.execute(
                "INSERT INTO recordings (id, call_id, direction, caller, queue_id, agent_id, started_at,"
                " ended_at, duration_s, segments, file, size, sha256, ratios, spans, class, key_id,"
                " wrapped_key)"
                " SELECT $1, c.call_id, c.direction, c.caller, c.queue_id, c.agent_id, c.started_at,"
                " c.ended_at, $3, $4, $5, $6, $7, $8::jsonb, $9::jsonb, $10, $11, $12 FROM calls c"
                " WHERE c.call_id = $2 ON CONFLICT (call_id) DO NOTHING",
                recording_id, call_id, converted.decoded_s, segments, file, size, sha256,
                json.dumps(converted.ratios), json.dumps(converted.spans), retention_class, kept.key_id,
                kept.wrapped,
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
            "SELECT * FROM recordings WHERE deleted_at IS NULL AND ($1::text IS NULL OR call_id = $1)"
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

    # legal hold and deletion on request ---------------------------------------------------------
    async def hold(self, recording_id: str, held: bool, reason: str, by: str) -> dict[str, Any] | None:
        """Set or release the hold (a hold takes away a mark for deletion); None: no such recording
        (or purged already)."""
        async with self.db.pool.acquire() as conn, conn.transaction():
            row = await conn.fetchrow(
                "UPDATE recordings SET held = $2,"
                " purge_after = CASE WHEN $2 THEN NULL ELSE purge_after END,"
                " purge_reason = CASE WHEN $2 THEN NULL ELSE purge_reason END"
                f" WHERE id = $1 AND {LIVE} RETURNING *",
                recording_id, held,
            )  # fmt: skip
            if row is not None:
                await conn.execute(AUDIT_HOLD, recording_id, "hold" if held else "release", reason, by)
        return recording_row(row) if row else None

    async def ask_delete(self, recording_id: str, reason: str, by: str, purge_after: datetime) -> Any:
        """Mark it for purging after the grace; the row, None if there is none, False if it is held."""
        async with self.db.pool.acquire() as conn, conn.transaction():
            row = await conn.fetchrow(
                f"SELECT * FROM recordings WHERE id = $1 AND {LIVE} FOR UPDATE", recording_id
            )
            if row is None or row["held"]:
                return None if row is None else False
            row = await conn.fetchrow(
                "UPDATE recordings SET purge_after = least(coalesce(purge_after, $2), $2),"
                " purge_reason = $3 WHERE id = $1 RETURNING *",
                recording_id, purge_after, reason,
            )  # fmt: skip
            await conn.execute(AUDIT_HOLD, recording_id, "delete", reason, by)
        return recording_row(row)

    async def holds(self, recording_id: str) -> list[dict[str, Any]]:
        rows = await self.db.pool.fetch(
            "SELECT action, reason, by_subject AS by, at FROM holds WHERE recording_id = $1 ORDER BY id",
            recording_id,
        )
        return [dict(r) for r in rows]

    # master key rotation ------------------------------------------------------------------------
    async def wrapped_by_others(self, current: str, limit: int) -> list[dict[str, Any]]:
        rows = await self.db.pool.fetch(
            "SELECT id, key_id, wrapped_key FROM recordings WHERE key_id IS NOT NULL AND key_id <> $1"
            " LIMIT $2",
            current, limit,
        )  # fmt: skip
        return [dict(r) for r in rows]

    async def rewrapped(self, recording_id: str, was: str, key_id: str, wrapped: bytes) -> None:
        await self.db.pool.execute(
            "UPDATE recordings SET key_id = $3, wrapped_key = $4 WHERE id = $1 AND key_id = $2",
            recording_id, was, key_id, wrapped,
        )  # fmt: skip

    # retention -----------------------------------------------------------------------------------
    async def retention_facts(
        self, only: list[str] | None, but: list[str] | None, expired: datetime, now: datetime
    ) -> dict[str, int]:
        """For a dry run: recordings to mark, to purge (and their bytes), and held past retention."""
        row = await self.db.pool.fetchrow(
            f"SELECT count(*) FILTER (WHERE started_at < $3 AND NOT held AND purge_after IS NULL) AS to_mark,"
            " count(*) FILTER (WHERE purge_after <= $4 AND NOT held) AS to_purge,"
            " coalesce(sum(size) FILTER (WHERE purge_after <= $4 AND NOT held), 0) AS purge_bytes,"
            " count(*) FILTER (WHERE started_at < $3 AND held) AS held"
            f" FROM recordings WHERE {LIVE} AND {OF_CLASSES}",
            only, but, expired, now,
        )  # fmt: skip
        return {key: int(row[key]) for key in ("to_mark", "to_purge", "purge_bytes", "held")}

    async def archivable(
        self, only: list[str] | None, but: list[str] | None, older: datetime
    ) -> tuple[int, int]:
        row = await self.db.pool.fetchrow(
            f"SELECT count(*) AS n, coalesce(sum(size), 0) AS bytes FROM recordings WHERE {LIVE}"
            f" AND tier = 'store' AND started_at < $3 AND {OF_CLASSES}",
            only, but, older,
        )  # fmt: skip
        return int(row["n"]), int(row["bytes"])

    async def to_archive(
        self, only: list[str] | None, but: list[str] | None, older: datetime, limit: int
    ) -> list[dict[str, Any]]:
        rows = await self.db.pool.fetch(
            f"SELECT id, file FROM recordings WHERE {LIVE} AND tier = 'store' AND started_at < $3"
            f" AND {OF_CLASSES} ORDER BY started_at LIMIT $4",
            only, but, older, limit,
        )  # fmt: skip
        return [dict(r) for r in rows]

    async def archived(self, recording_id: str) -> bool:
        """Its file is in the archive now (copied and fsynced); whether this run moved it."""
        status = await self.db.pool.execute(
            f"UPDATE recordings SET tier = 'archive' WHERE id = $1 AND tier = 'store' AND {LIVE}",
            recording_id,
        )
        return bool(status.endswith(" 1"))

    async def mark_expired(
        self, only: list[str] | None, but: list[str] | None, expired: datetime, purge_after: datetime,
        reason: str,
    ) -> int:  # fmt: skip
        status = await self.db.pool.execute(
            "UPDATE recordings SET purge_after = $4, purge_reason = $5"
            f" WHERE {LIVE} AND NOT held AND purge_after IS NULL AND started_at < $3 AND {OF_CLASSES}",
            only, but, expired, purge_after, reason,
        )  # fmt: skip
        return int(status.split()[-1])

    async def purge(
        self, now: datetime, limit: int, remove: Callable[[dict[str, Any]], Awaitable[bool]],
        retry_at: datetime,
    ) -> int:  # fmt: skip
        """Up to ``limit`` marked recordings past their grace and not held: their files removed (by
        ``remove``), their rows tombstones; how many were taken. One whose files would not go
        (``remove`` says False) is tried again at ``retry_at`` and holds up none behind it. Rows
        are locked meanwhile (another instance's run skips them); a crash before the commit leaves
        them marked, to be purged again."""
        async with self.db.pool.acquire() as conn, conn.transaction():
            rows = await conn.fetch(
                f"SELECT * FROM recordings WHERE {LIVE} AND NOT held AND purge_after <= $1"
                " ORDER BY purge_after LIMIT $2 FOR UPDATE SKIP LOCKED",
                now, limit,
            )  # fmt: skip
            gone: list[str] = []
            kept: list[str] = []
            for row in rows:
                (gone if await remove(dict(row)) else kept).append(row["id"])
            await conn.execute(
                "UPDATE recordings SET deleted_at = $2, announced = false WHERE id = ANY($1)", gone, now
            )
            await conn.execute("UPDATE recordings SET purge_after = $2 WHERE id = ANY($1)", kept, retry_at)
        return len(rows)

    async def unannounced(self, limit: int = 500) -> list[dict[str, Any]]:
        rows = await self.db.pool.fetch(
            "SELECT id, call_id, purge_reason FROM recordings WHERE NOT announced"
            " ORDER BY deleted_at LIMIT $1",
            limit,
        )
        return [dict(r) for r in rows]

    async def announced(self, recording_id: str) -> None:
        await self.db.pool.execute("UPDATE recordings SET announced = true WHERE id = $1", recording_id)


def recording_row(row: Any) -> dict[str, Any]:
    data = dict(row)
    for name in ("ratios", "spans"):
        if isinstance(data.get(name), str):
            data[name] = json.loads(data[name])
    return data

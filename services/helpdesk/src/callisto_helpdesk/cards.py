"""Call cards: one per call, built from the events of call-manager (call states, IVR input) and
queue-manager (queue steps, the agent's disposition). Every update is idempotent and order-proof: a
call state older than the card's is ignored, times are set once, the IVR input is keyed by step, the
queue's facts and the disposition by call (the latest said counts); so replays after a restart,
duplicates and steps that come before the call's first state change nothing. The card is read as
the join of them all."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from callisto_helpdesk.access import EVERYTHING, Scope
from callisto_helpdesk.attachments import attach_recordings
from callisto_helpdesk.errors import UnknownCallCard
from callisto_helpdesk.phones import lookup_key
from callisto_protocol import Envelope, Event
from callisto_protocol.calls import CallDirection, CallState, CallStateChanged
from callisto_protocol.queues import CallDisposed, QueueCallEvent, QueueCallKind
from callisto_protocol.recordings import RecordingAvailable, RecordingDeleted
from callisto_protocol.telephony import IvrInput
from callisto_runtime.database import Database

UPSERT_STATE = """
INSERT INTO call_cards (call_id, direction, number, number_e164, contact_id, dialled, trunk, queue_id,
                        agent_id, state, seq, started_at, answered_at, ended_at, ended_by, sip_status)
VALUES ($1, $2, $3, $4, (SELECT contact_id FROM contact_phones WHERE e164 = $4), $5, $6, $7, $8, $9, $10, $11,
        $12, $13, $14, $15)
ON CONFLICT (call_id) DO UPDATE SET
    state = CASE WHEN EXCLUDED.seq > call_cards.seq THEN EXCLUDED.state ELSE call_cards.state END,
    seq = greatest(call_cards.seq, EXCLUDED.seq),
    queue_id = coalesce(EXCLUDED.queue_id, call_cards.queue_id),
    agent_id = coalesce(call_cards.agent_id, EXCLUDED.agent_id),
    trunk = coalesce(call_cards.trunk, EXCLUDED.trunk),
    started_at = least(call_cards.started_at, EXCLUDED.started_at),
    answered_at = coalesce(call_cards.answered_at, EXCLUDED.answered_at),
    ended_at = coalesce(call_cards.ended_at, EXCLUDED.ended_at),
    ended_by = coalesce(call_cards.ended_by, EXCLUDED.ended_by),
    sip_status = coalesce(call_cards.sip_status, EXCLUDED.sip_status)
"""
DISPOSED = """
INSERT INTO call_dispositions (call_id, queue_id, agent_id, disposition, note, said_at, said_by)
VALUES ($1, $2, $3, $4, $5, $6, $7)
ON CONFLICT (call_id) DO UPDATE SET
    queue_id = EXCLUDED.queue_id, agent_id = EXCLUDED.agent_id, disposition = EXCLUDED.disposition,
    note = EXCLUDED.note, said_at = EXCLUDED.said_at, said_by = EXCLUDED.said_by
WHERE call_dispositions.said_at <= EXCLUDED.said_at
"""
LEFT_QUEUE = (
    QueueCallKind.ABANDONED,
    QueueCallKind.TIMED_OUT,
    QueueCallKind.CALLBACK,
    QueueCallKind.OVERFLOWED,
)
CARD = """
SELECT c.*, f.wait_s, coalesce(c.queue_id, f.queue_id) AS queue_id,
       coalesce(c.agent_id, f.agent_id) AS agent_id,
       CASE WHEN c.ended_at IS NULL THEN NULL WHEN c.answered_at IS NOT NULL THEN 'answered'
            WHEN coalesce(c.queue_id, f.queue_id) IS NOT NULL THEN 'abandoned'
            ELSE 'unanswered' END AS outcome,
       coalesce((SELECT jsonb_object_agg(i.step, i.digits) FROM call_ivr i WHERE i.call_id = c.call_id),
                '{}') AS ivr,
       r.recording_id, r.url AS recording_url, r.duration_s AS recording_s,
       d.disposition, d.note AS wrap_up_note
FROM call_cards c LEFT JOIN call_queue_facts f ON f.call_id = c.call_id
LEFT JOIN call_recordings r ON r.call_id = c.call_id
LEFT JOIN call_dispositions d ON d.call_id = c.call_id
"""


def _card(row: Any) -> dict[str, Any]:
    card = dict(row)
    card["ivr"] = json.loads(card["ivr"])
    ended, answered = card["ended_at"], card["answered_at"]
    card["talk_s"] = round((ended - answered).total_seconds(), 1) if ended and answered else None
    return card


class CallCards:
    def __init__(self, database: Database, region: str) -> None:
        self.db = database
        self.region = region

    async def on_event(self, event: Event, _: Envelope) -> None:
        if isinstance(event, CallStateChanged):
            await self.call_state(event)
        elif isinstance(event, IvrInput):
            await self.db.pool.execute(
                "INSERT INTO call_ivr (call_id, step, digits) VALUES ($1, $2, $3)"
                " ON CONFLICT (call_id, step) DO UPDATE SET digits = EXCLUDED.digits",
                event.call_id, event.step, event.digits,
            )  # fmt: skip
        elif isinstance(event, QueueCallEvent):
            await self.queue_step(event)
        elif isinstance(event, RecordingAvailable):
            await self.recording(event)
        elif isinstance(event, RecordingDeleted):
            await self.recording_deleted(event)
        elif isinstance(event, CallDisposed):
            await self.db.pool.execute(
                DISPOSED,
                event.call_id, event.queue_id, event.agent_id, event.disposition, event.note, event.at,
                event.by,
            )  # fmt: skip

    async def recording(self, event: RecordingAvailable) -> None:
        """The card links to the recording, and so does every ticket about the call."""
        async with self.db.pool.acquire() as conn, conn.transaction():
            await conn.execute(
                "INSERT INTO call_recordings (call_id, recording_id, url, duration_s) VALUES ($1, $2, $3, $4)"
                " ON CONFLICT (call_id) DO UPDATE SET recording_id = EXCLUDED.recording_id,"
                " url = EXCLUDED.url, duration_s = EXCLUDED.duration_s",
                event.call_id, event.recording_id, event.url, event.duration_s,
            )  # fmt: skip
            await attach_recordings(conn, event.call_id)

    async def recording_deleted(self, event: RecordingDeleted) -> None:
        """A recording gone for good (its retention ran out, an erasure): the card and the tickets
        about the call no longer link to it."""
        async with self.db.pool.acquire() as conn, conn.transaction():
            url = await conn.fetchval(
                "DELETE FROM call_recordings WHERE call_id = $1 AND recording_id = $2 RETURNING url",
                event.call_id, event.recording_id,
            )  # fmt: skip
            if url is not None:
                await conn.execute(
                    "DELETE FROM attachments WHERE kind = 'recording' AND call_id = $1 AND url = $2",
                    event.call_id, url,
                )  # fmt: skip

    async def call_state(self, event: CallStateChanged) -> None:
        number = event.caller if event.direction is CallDirection.INBOUND else event.dialled
        e164 = lookup_key(number, self.region) if number else None
        at: datetime = event.since
        ended = event.state is CallState.ENDED
        connected = event.state is CallState.CONNECTED
        await self.db.pool.execute(
            UPSERT_STATE,
            event.call_id, event.direction.value, number, e164, event.dialled, event.trunk, event.queue_id,
            event.agent_id if connected else None, event.state.value, event.seq, at,
            at if connected else None, at if ended else None,
            event.ended_by.value if event.ended_by else None, event.sip_status,
        )  # fmt: skip

    async def queue_step(self, event: QueueCallEvent) -> None:
        """The wait ends when an agent answers or the caller leaves the queue; the first such step
        counts (a transfer back to a queue does not make the first wait longer)."""
        if event.step in (QueueCallKind.ANSWERED, *LEFT_QUEUE):
            await self.db.pool.execute(
                "INSERT INTO call_queue_facts (call_id, queue_id, agent_id, wait_s) VALUES ($1, $2, $3, $4)"
                " ON CONFLICT (call_id) DO NOTHING",
                event.call_id, event.queue_id, event.agent_id, event.waited_s,
            )  # fmt: skip

    async def get(self, call_id: str, scope: Scope = EVERYTHING) -> dict[str, Any]:
        in_scope, scoped = scope.where_card(2)
        row = await self.db.pool.fetchrow(CARD + f" WHERE c.call_id = $1 AND {in_scope}", call_id, *scoped)
        if row is None:
            raise UnknownCallCard(f"no call card {call_id!r}", {"call_id": call_id})
        card = _card(row)
        tickets = await self.db.pool.fetch(
            "SELECT t.id AS ticket_id, t.number, t.subject, t.state FROM tickets t WHERE t.call_id = $1"
            " UNION SELECT t.id, t.number, t.subject, t.state FROM ticket_calls l"
            " JOIN tickets t ON t.id = l.ticket_id WHERE l.call_id = $1 ORDER BY number",
            call_id,
        )
        card["tickets"] = [dict(t) for t in tickets]
        return card

    async def history(
        self, contact_id: str | None, e164: str | None, limit: int, scope: Scope = EVERYTHING
    ) -> list[dict[str, Any]]:
        """The calls of a contact or a number, newest first (the screen pop's history)."""
        in_scope, scoped = scope.where_card(4)
        rows = await self.db.pool.fetch(
            CARD + " WHERE (($1::text IS NOT NULL AND c.contact_id = $1)"
            f" OR ($2::text IS NOT NULL AND c.number_e164 = $2)) AND {in_scope}"
            " ORDER BY c.started_at DESC LIMIT $3",
            contact_id, e164, limit, *scoped,
        )  # fmt: skip
        return [_card(row) for row in rows]

    async def link(self, call_id: str, ticket_id: str) -> None:
        async with self.db.pool.acquire() as conn, conn.transaction():
            await conn.execute(
                "INSERT INTO ticket_calls (ticket_id, call_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                ticket_id, call_id,
            )  # fmt: skip
            await attach_recordings(conn, call_id)

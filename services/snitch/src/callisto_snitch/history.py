"""History in PostgreSQL (schema ``history``): calls, the queue log and agent states, with what
reports read of them kept up to date in the same transaction (each call's summary per queue, each
state's end).

Fed by durable consumers in batches: one transaction per batch, acknowledged after it commits, so
events wait in JetStream while PostgreSQL is away and nothing is lost. Every row is keyed (message
id, agent and seq, call id with its state's seq), so a batch delivered again changes nothing."""

from __future__ import annotations

from typing import Any

from callisto_protocol import Envelope, Event
from callisto_protocol.agents import AgentStateChanged
from callisto_protocol.calls import CallState, CallStateChanged
from callisto_protocol.queues import QueueCallEvent
from callisto_runtime.database import Database

INSERT_STEPS = """
INSERT INTO queue_log (message_id, at, queue_id, call_id, step, agent_id, waited_s, priority, target, reason)
SELECT * FROM unnest($1::text[], $2::timestamptz[], $3::text[], $4::text[], $5::text[], $6::text[],
                     $7::float8[], $8::int[], $9::text[], $10::text[])
ON CONFLICT (message_id) DO NOTHING
"""
INSERT_STATES = """
INSERT INTO agent_states (agent_id, seq, state, since, reason, call_id, queues, message_id)
SELECT a, s, st, si, r, c, string_to_array(q, ','), m
FROM unnest($1::text[], $2::int[], $3::text[], $4::timestamptz[], $5::text[], $6::text[], $7::text[],
            $8::text[]) AS t(a, s, st, si, r, c, q, m)
ON CONFLICT (agent_id, seq) DO NOTHING
"""
# the calls the steps are of, summarised (migration 0002 made the first rows from the whole log)
SUMMARISE_STEPS = """
INSERT INTO queue_calls AS q (queue_id, call_id, entered_at, callback, answered_at, answer_wait, abandon_wait,
                              overflowed, timed_out, to_callback, ended_at)
SELECT qu, c,
       min(at) FILTER (WHERE st = 'enqueued'), coalesce(bool_or(st = 'enqueued' AND r = 'callback'), false),
       min(at) FILTER (WHERE st = 'answered'), min(w) FILTER (WHERE st = 'answered'),
       min(w) FILTER (WHERE st = 'abandoned'), bool_or(st = 'overflowed'), bool_or(st = 'timed_out'),
       bool_or(st = 'callback'), min(at) FILTER (WHERE st = 'ended')
FROM unnest($1::timestamptz[], $2::text[], $3::text[], $4::text[], $5::float8[], $6::text[])
     AS b(at, qu, c, st, w, r)
GROUP BY qu, c
ON CONFLICT (queue_id, call_id) DO UPDATE SET
    entered_at = least(q.entered_at, EXCLUDED.entered_at), callback = q.callback OR EXCLUDED.callback,
    answered_at = least(q.answered_at, EXCLUDED.answered_at),
    answer_wait = least(q.answer_wait, EXCLUDED.answer_wait),
    abandon_wait = least(q.abandon_wait, EXCLUDED.abandon_wait),
    overflowed = q.overflowed OR EXCLUDED.overflowed, timed_out = q.timed_out OR EXCLUDED.timed_out,
    to_callback = q.to_callback OR EXCLUDED.to_callback, ended_at = least(q.ended_at, EXCLUDED.ended_at)
"""
# each new state's end, and its predecessor's (states may arrive out of order): the next seq's since
END_STATES = """
UPDATE agent_states s SET until = (
    SELECT n.since FROM agent_states n WHERE n.agent_id = s.agent_id AND n.seq > s.seq ORDER BY n.seq LIMIT 1
)
WHERE (s.agent_id, s.seq) IN (
    SELECT a, x FROM unnest($1::text[], $2::int[]) AS b(a, x)
    UNION
    SELECT b.a, (SELECT max(p.seq) FROM agent_states p WHERE p.agent_id = b.a AND p.seq < b.x)
    FROM unnest($1::text[], $2::int[]) AS b(a, x)
)
"""
UPSERT_CALL = """
INSERT INTO calls (call_id, direction, caller, dialled, trunk, queue_id, agent_id, state, seq, started_at,
                   answered_at, ended_at, ended_by, sip_status)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
ON CONFLICT (call_id) DO UPDATE SET
    state = CASE WHEN EXCLUDED.seq > calls.seq THEN EXCLUDED.state ELSE calls.state END,
    seq = greatest(calls.seq, EXCLUDED.seq),
    queue_id = coalesce(EXCLUDED.queue_id, calls.queue_id),
    agent_id = coalesce(calls.agent_id, EXCLUDED.agent_id),
    trunk = coalesce(calls.trunk, EXCLUDED.trunk),
    started_at = least(calls.started_at, EXCLUDED.started_at),
    answered_at = coalesce(calls.answered_at, EXCLUDED.answered_at),
    ended_at = coalesce(calls.ended_at, EXCLUDED.ended_at),
    ended_by = coalesce(calls.ended_by, EXCLUDED.ended_by),
    sip_status = coalesce(calls.sip_status, EXCLUDED.sip_status)
"""


def _columns(rows: list[tuple[Any, ...]], width: int) -> list[list[Any]]:
    return [[row[i] for row in rows] for i in range(width)]


class History:
    def __init__(self, database: Database) -> None:
        self.db = database
        self.rows = 0

    async def store(self, batch: list[tuple[Event, Envelope]]) -> None:
        steps: list[tuple[Any, ...]] = []
        states: list[tuple[Any, ...]] = []
        calls: list[tuple[Any, ...]] = []
        for event, env in batch:
            if isinstance(event, QueueCallEvent):
                steps.append((
                    env.message_id, event.at, event.queue_id, event.call_id, event.step.value, event.agent_id,
                    event.waited_s, event.priority, event.target, event.reason,
                ))  # fmt: skip
            elif isinstance(event, AgentStateChanged):
                states.append((
                    event.agent_id, event.seq, event.state.value, event.since, event.reason, event.call_id,
                    ",".join(event.queues), env.message_id,
                ))  # fmt: skip
            elif isinstance(event, CallStateChanged):
                calls.append(_call_row(event))
        async with self.db.pool.acquire() as conn, conn.transaction():
            if steps:
                columns = _columns(steps, 10)
                await conn.execute(INSERT_STEPS, *columns)
                at, queue, call, step, waited, reason = (columns[i] for i in (1, 2, 3, 4, 6, 9))
                await conn.execute(SUMMARISE_STEPS, at, queue, call, step, waited, reason)
            if states:
                columns = _columns(states, 8)
                await conn.execute(INSERT_STATES, *columns)
                await conn.execute(END_STATES, *columns[:2])
            if calls:
                await conn.executemany(UPSERT_CALL, calls)
        self.rows += len(steps) + len(states) + len(calls)


def _call_row(event: CallStateChanged) -> tuple[Any, ...]:
    connected = event.state is CallState.CONNECTED
    ended = event.state is CallState.ENDED
    return (
        event.call_id, event.direction.value, event.caller, event.dialled, event.trunk, event.queue_id,
        event.agent_id if connected else None, event.state.value, event.seq, event.since,
        event.since if connected else None, event.since if ended else None,
        event.ended_by.value if event.ended_by else None, event.sip_status,
    )  # fmt: skip

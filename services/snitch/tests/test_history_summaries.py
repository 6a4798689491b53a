"""What reports read, kept by the history writer against real PostgreSQL: each call's summary per
queue and each agent state's end come out the same whatever order the events arrive in, in how
many batches, and however often one is delivered again."""

from __future__ import annotations

import random
from typing import Any

import asyncpg
import pytest
from snitch_testing import a_morning

from callisto_protocol import Envelope
from callisto_runtime.database import Database
from callisto_snitch.app import MIGRATIONS
from callisto_snitch.history import History

pytestmark = pytest.mark.integration


async def summaries(dsn: str, schema: str) -> tuple[list[Any], list[Any]]:
    conn = await asyncpg.connect(dsn, server_settings={"search_path": schema})
    try:
        calls = await conn.fetch("SELECT * FROM queue_calls ORDER BY queue_id, call_id")
        ends = await conn.fetch("SELECT agent_id, seq, until FROM agent_states ORDER BY agent_id, seq")
        return [dict(r) for r in calls], [dict(r) for r in ends]
    finally:
        await conn.close()


async def written(dsn: str, schema: str, batches: list[list[Any]]) -> tuple[list[Any], list[Any]]:
    database = Database(dsn, schema, MIGRATIONS)
    database.start()
    await database.wait_ready()
    try:
        history = History(database)
        for batch in batches:
            await history.store(batch)
    finally:
        await database.close()
    return await summaries(dsn, schema)


async def test_summaries_do_not_depend_on_order_batches_or_repeats(postgres_database: str) -> None:
    morning = [(event, Envelope(event.message_type, "queue-manager", "test")) for event in a_morning()]
    in_order = await written(postgres_database, "history_a", [morning])
    shuffled = morning[:]
    random.Random(7).shuffle(shuffled)
    again = shuffled[:5]  # delivered twice, the second time in another batch
    jumbled = await written(postgres_database, "history_b", [shuffled[:9], shuffled[9:] + again, again])
    assert jumbled == in_order
    calls, ends = in_order
    c1 = next(c for c in calls if c["call_id"] == "c1")
    assert (c1["answer_wait"], c1["abandon_wait"]) == (6, None) and c1["ended_at"] is not None
    c3 = next(c for c in calls if c["call_id"] == "c3")
    assert (c3["answered_at"], c3["abandon_wait"]) == (None, 40)
    assert [e["until"] is None for e in ends if e["agent_id"] == "agent-1"] == [False] * 4 + [True]

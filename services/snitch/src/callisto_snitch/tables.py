"""The real-time tables in Redis (prefix ``rt:``), for integrators and other readers of Redis.

Written from the board once a second: every queue and line (hash ``rt:queue:<id>``,
``rt:line:<id>``), the agents that changed (``rt:agent:<id>``), the sets of ids and the last wallboard
snapshot (``rt:snapshot``, JSON). ``rt:epoch`` marks tables written by this process: when it is gone
(Redis flushed or replaced), everything is written again at the next tick. A failed write leaves the
agents it carried marked to be written, so nothing is skipped once Redis is back."""

from __future__ import annotations

import json
import logging
from typing import Any

import redis.asyncio as redis
from redis.typing import EncodableT, FieldT

from callisto_snitch.board import Board

log = logging.getLogger(__name__)

EPOCH = "rt:epoch"
SNAPSHOT = "rt:snapshot"
QUEUES = "rt:queues"
LINES = "rt:lines"
AGENTS = "rt:agents"


def flat(figures: dict[str, Any]) -> dict[FieldT, EncodableT]:
    """A hash of one queue's or line's figures: nested maps become ``outer_inner`` fields."""
    out: dict[FieldT, EncodableT] = {}
    for key, value in figures.items():
        if isinstance(value, dict):
            for inner, v in value.items():
                out[f"{key}_{inner}"] = "" if v is None else str(v)
        elif isinstance(value, list):
            out[key] = ",".join(value)
        else:
            out[key] = "" if value is None else str(value)
    return out


class Tables:
    def __init__(self, url: str, instance: str) -> None:
        self.redis = redis.Redis.from_url(url, socket_timeout=2.0, socket_connect_timeout=2.0)
        self.instance = instance
        self.writes = 0
        self.rebuilds = 0
        self.failures = 0

    async def healthy(self) -> bool:
        try:
            return bool(await self.redis.ping())
        except (redis.RedisError, OSError):
            return False

    async def close(self) -> None:
        await self.redis.aclose()

    async def write(self, board: Board, snapshot: dict[str, Any], now: float) -> None:
        dirty = set(board.dirty_agents)
        board.dirty_agents.clear()
        dropped = set(board.dropped_lines)
        board.dropped_lines.clear()
        try:
            if not await self.redis.exists(EPOCH):
                dirty = set(board.agents)
                self.rebuilds += 1
                log.info("rt: tables missing in Redis; writing all of them again")
            pipe = self.redis.pipeline(transaction=False)
            for queue_id, figures in snapshot["queues"].items():
                pipe.hset(f"rt:queue:{queue_id}", mapping=flat(figures))
            for line_id, figures in snapshot["lines"].items():
                pipe.hset(f"rt:line:{line_id}", mapping=flat(figures))
            if snapshot["queues"]:
                pipe.sadd(QUEUES, *snapshot["queues"])
            if snapshot["lines"]:
                pipe.sadd(LINES, *snapshot["lines"])
            if dropped:
                pipe.delete(*(f"rt:line:{line_id}" for line_id in dropped))
                pipe.srem(LINES, *dropped)
            if dirty:
                for row in board.agent_rows(now, dirty):
                    pipe.hset(f"rt:agent:{row['agent_id']}", mapping=flat(row))
                pipe.sadd(AGENTS, *dirty)
            pipe.set(SNAPSHOT, json.dumps(snapshot))
            pipe.set(EPOCH, self.instance)
            await pipe.execute()
            self.writes += 1
        except (redis.RedisError, OSError) as exc:
            board.dirty_agents |= dirty
            board.dropped_lines |= dropped - set(board.definitions.lines)
            self.failures += 1
            log.warning("rt: writing the tables failed: %r", exc)

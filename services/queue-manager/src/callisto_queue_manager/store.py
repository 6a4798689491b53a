"""Live state written through to Redis (prefix ``qm:``) so that a restarted or standby instance
rebuilds the queues exactly: configuration (queues, agent profiles) and live records (agents, calls).
Writes that fail (Redis away) stay pending and are retried; nothing accepted is dropped.

Every write is fenced (``callisto_runtime.fencing``, fence key ``qm:fence``): an active instance that
was frozen past its lease (GC, SIGSTOP, a partition) and wakes up cannot overwrite its successor."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import asdict, fields
from typing import Any

import redis.asyncio as redis

from callisto_protocol.agents import AgentState
from callisto_queue_manager.acd import Acd
from callisto_queue_manager.assistance import Help
from callisto_queue_manager.model import Agent, AgentProfile, Call, Callback, CallStatus, QueueConfig
from callisto_runtime.fencing import FencedWriter, Token

FENCE = "qm:fence"
QUEUES = "qm:queues"
PROFILES = "qm:agent-profiles"
AGENTS = "qm:agents"
CALLS = "qm:calls"
HELP = "qm:help"
# written with the state; when it is gone, Redis lost what it held (restarted empty, flushed)
EPOCH = "qm:epoch"


def agent_record(agent: Agent) -> str:
    record = asdict(agent)
    del record["profile"]
    return json.dumps(record)


def agent_from(profile: AgentProfile, text: str) -> Agent:
    record: dict[str, Any] = json.loads(text)
    known = {f.name for f in fields(Agent)} - {"profile"}
    record = {k: v for k, v in record.items() if k in known}
    record["state"] = AgentState(record["state"])
    return Agent(profile=profile, **record)


def call_record(call: Call) -> str:
    record = asdict(call)
    record["offered_to"] = sorted(call.offered_to)
    return json.dumps(record)


def call_from(text: str) -> Call:
    record: dict[str, Any] = json.loads(text)
    record.pop("missed_by", None)  # written by earlier releases
    record["status"] = CallStatus(record["status"])
    record["offered_to"] = set(record["offered_to"])
    if record.get("callback"):
        record["callback"] = Callback(**record["callback"])
    return Call(**record)


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


class Store:
    def __init__(self, url: str, fence: Callable[[], Token | None] = lambda: 0) -> None:
        self.redis = redis.Redis.from_url(url, socket_timeout=2.0, socket_connect_timeout=2.0)
        self.writer = FencedWriter(self.redis, FENCE, fence)

    @property
    def fenced(self) -> int:
        """Writes refused."""
        return self.writer.refused

    async def _write(self, *operations: tuple[str, ...]) -> None:
        await self.writer.write(*operations)

    async def healthy(self) -> bool:
        try:
            return bool(await self.redis.ping())
        except (redis.RedisError, OSError):
            return False

    async def close(self) -> None:
        await self.redis.aclose()

    async def config(self) -> tuple[list[QueueConfig], list[AgentProfile]]:
        queues = await self.redis.hvals(QUEUES)
        profiles = await self.redis.hvals(PROFILES)
        return (
            [QueueConfig.model_validate_json(q) for q in queues],
            [AgentProfile.model_validate_json(p) for p in profiles],
        )

    async def save_queue(self, queue: QueueConfig) -> None:
        await self._write(("HSET", QUEUES, queue.id, queue.model_dump_json()))

    async def delete_queue(self, queue_id: str) -> None:
        await self._write(("HDEL", QUEUES, queue_id))

    async def save_profile(self, profile: AgentProfile) -> None:
        await self._write(("HSET", PROFILES, profile.id, profile.model_dump_json()))

    async def live(self, acd: Acd) -> tuple[list[Agent], list[Call], list[Help]]:
        agents = {_text(k): _text(v) for k, v in (await self.redis.hgetall(AGENTS)).items()}
        calls = [call_from(_text(c)) for c in await self.redis.hvals(CALLS)]
        helps = [Help.from_record(_text(h)) for h in await self.redis.hvals(HELP)]
        restored = [agent_from(acd.agents[k].profile, v) for k, v in agents.items() if k in acd.agents]
        return restored, calls, helps

    async def mark(self) -> None:
        """Say that Redis holds this instance's state (after a load or a write-back)."""
        await self._write(("SET", EPOCH, os.urandom(8).hex()))

    async def lost(self) -> bool:
        """True when Redis no longer holds the state (its epoch key is gone)."""
        return not await self.redis.exists(EPOCH)

    async def write_back(self, acd: Acd) -> None:
        """Everything from memory: configuration and live state, in one transaction, then the epoch."""
        operations: list[tuple[str, ...]] = [("DEL", key) for key in (QUEUES, PROFILES, AGENTS, CALLS, HELP)]
        operations += [("HSET", QUEUES, q.id, q.model_dump_json()) for q in acd.queues.values()]
        for agent in acd.agents.values():
            operations.append(("HSET", PROFILES, agent.id, agent.profile.model_dump_json()))
            operations.append(("HSET", AGENTS, agent.id, agent_record(agent)))
        operations += [("HSET", CALLS, c.call_id, call_record(c)) for c in acd.calls.values()]
        operations += [("HSET", HELP, h.request_id, h.record()) for h in acd.help.requests.values()]
        await self._write(*operations, ("SET", EPOCH, os.urandom(8).hex()))
        acd.dirty_agents.clear()
        acd.dirty_calls.clear()
        acd.help.dirty.clear()

    async def flush(self, acd: Acd) -> None:
        """Write what the last operations changed; on failure it stays pending (raises)."""
        if not acd.dirty_agents and not acd.dirty_calls and not acd.help.dirty:
            return
        agents, calls, helps = set(acd.dirty_agents), set(acd.dirty_calls), set(acd.help.dirty)
        operations: list[tuple[str, ...]] = [
            ("HSET", AGENTS, a, agent_record(acd.agents[a])) for a in agents if a in acd.agents
        ]
        for call_id in calls:
            call = acd.calls.get(call_id)
            operations.append(
                ("HSET", CALLS, call_id, call_record(call)) if call else ("HDEL", CALLS, call_id)
            )
        for request_id in helps:
            found = acd.help.requests.get(request_id)
            operations.append(
                ("HSET", HELP, request_id, found.record()) if found else ("HDEL", HELP, request_id)
            )
        await self._write(*operations)
        acd.dirty_agents -= agents
        acd.dirty_calls -= calls
        acd.help.dirty -= helps

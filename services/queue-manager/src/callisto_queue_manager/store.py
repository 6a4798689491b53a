"""Live state written through to Redis (prefix ``qm:``) so that a restarted or standby instance
rebuilds the queues exactly: configuration (queues, agent profiles) and live records (agents, calls).
Writes that fail (Redis away) stay pending and are retried; nothing accepted is dropped."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, fields
from typing import Any

import redis.asyncio as redis

from callisto_protocol.agents import AgentState
from callisto_queue_manager.acd import Acd
from callisto_queue_manager.assistance import Help
from callisto_queue_manager.model import Agent, AgentProfile, Call, Callback, CallStatus, QueueConfig

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
    def __init__(self, url: str) -> None:
        self.redis = redis.Redis.from_url(url, socket_timeout=2.0, socket_connect_timeout=2.0)

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
        await self.redis.hset(QUEUES, queue.id, queue.model_dump_json())

    async def delete_queue(self, queue_id: str) -> None:
        await self.redis.hdel(QUEUES, queue_id)

    async def save_profile(self, profile: AgentProfile) -> None:
        await self.redis.hset(PROFILES, profile.id, profile.model_dump_json())

    async def live(self, acd: Acd) -> tuple[list[Agent], list[Call], list[Help]]:
        agents = {_text(k): _text(v) for k, v in (await self.redis.hgetall(AGENTS)).items()}
        calls = [call_from(_text(c)) for c in await self.redis.hvals(CALLS)]
        helps = [Help.from_record(_text(h)) for h in await self.redis.hvals(HELP)]
        restored = [agent_from(acd.agents[k].profile, v) for k, v in agents.items() if k in acd.agents]
        return restored, calls, helps

    async def mark(self) -> None:
        """Say that Redis holds this instance's state (after a load or a write-back)."""
        await self.redis.set(EPOCH, os.urandom(8).hex())

    async def lost(self) -> bool:
        """True when Redis no longer holds the state (its epoch key is gone)."""
        return not await self.redis.exists(EPOCH)

    async def write_back(self, acd: Acd) -> None:
        """Everything from memory: configuration and live state, in one transaction, then the epoch."""
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.delete(QUEUES, PROFILES, AGENTS, CALLS, HELP)
            for queue in acd.queues.values():
                pipe.hset(QUEUES, queue.id, queue.model_dump_json())
            for agent in acd.agents.values():
                pipe.hset(PROFILES, agent.id, agent.profile.model_dump_json())
                pipe.hset(AGENTS, agent.id, agent_record(agent))
            for call in acd.calls.values():
                pipe.hset(CALLS, call.call_id, call_record(call))
            for request in acd.help.requests.values():
                pipe.hset(HELP, request.request_id, request.record())
            pipe.set(EPOCH, os.urandom(8).hex())
            await pipe.execute()
        acd.dirty_agents.clear()
        acd.dirty_calls.clear()
        acd.help.dirty.clear()

    async def flush(self, acd: Acd) -> None:
        """Write what the last operations changed; on failure it stays pending (raises)."""
        if not acd.dirty_agents and not acd.dirty_calls and not acd.help.dirty:
            return
        agents, calls, helps = set(acd.dirty_agents), set(acd.dirty_calls), set(acd.help.dirty)
        async with self.redis.pipeline(transaction=True) as pipe:
            for agent_id in agents:
                if agent_id in acd.agents:
                    pipe.hset(AGENTS, agent_id, agent_record(acd.agents[agent_id]))
            for call_id in calls:
                if call_id in acd.calls:
                    pipe.hset(CALLS, call_id, call_record(acd.calls[call_id]))
                else:
                    pipe.hdel(CALLS, call_id)
            for request_id in helps:
                if request_id in acd.help.requests:
                    pipe.hset(HELP, request_id, acd.help.requests[request_id].record())
                else:
                    pipe.hdel(HELP, request_id)
            await pipe.execute()
        acd.dirty_agents -= agents
        acd.dirty_calls -= calls
        acd.help.dirty -= helps

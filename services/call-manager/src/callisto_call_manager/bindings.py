"""Registrations of softphones (RFC 3261 section 10), written through to Redis.

``cm:reg:<username>`` is a hash contact -> JSON binding; ``cm:agent-user`` maps an agent to the
username whose phone rings for it. Expired bindings are dropped when read and by the keep-alive sweep.
The instance keeps a copy of what it wrote (``known``), so that a Redis restarted empty gets every
live binding back (``state_guard``) instead of phones that believe they are registered and are not.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass

from redis.asyncio import Redis

from callisto_runtime.fencing import FencedWriter
from callisto_sip import websocket
from callisto_sip.ua import peer_of
from callisto_sip.uri import parse_uri


@dataclass(frozen=True)
class Binding:
    username: str
    contact: str  # the Contact URI, as registered
    expires_at: float
    source_host: str
    source_port: int
    protocol: str
    agent_id: str | None = None

    def alive(self, now: float) -> bool:
        return self.expires_at > now

    @property
    def browser(self) -> bool:
        """Registered over a WebSocket: a browser (WebRTC media, reached down its connection)."""
        return self.protocol in websocket.PROTOCOLS

    @property
    def address(self) -> tuple[str, int]:
        """Where requests to the phone go: its registered Contact (RFC 3261 section 10.3)."""
        return peer_of(parse_uri(self.contact))


class Bindings:
    def __init__(self, redis: Redis, writer: FencedWriter) -> None:
        self.redis = redis
        self.writer = writer  # writes carry the lease's fencing token
        self.known: dict[str, dict[str, Binding]] = {}  # username -> contact -> binding

    async def load(self) -> None:
        """Take the bindings a previous run left in Redis as known."""
        for binding in await self.everyone():
            self.known.setdefault(binding.username, {})[binding.contact] = binding

    def alive(self, now: float) -> list[Binding]:
        """The known bindings that have not expired (dropping the others)."""
        for username in list(self.known):
            kept = {c: b for c, b in self.known[username].items() if b.alive(now)}
            if kept:
                self.known[username] = kept
            else:
                del self.known[username]
        return [b for contacts in self.known.values() for b in contacts.values()]

    async def of(self, username: str, now: float | None = None) -> list[Binding]:
        now = now if now is not None else time.time()
        raw = await self.redis.hgetall(f"cm:reg:{username}")
        found = [Binding(**json.loads(value)) for value in raw.values()]
        return sorted((b for b in found if b.alive(now)), key=lambda b: -b.expires_at)

    async def save(self, binding: Binding) -> None:
        self.known.setdefault(binding.username, {})[binding.contact] = binding
        await self.write(binding)

    async def write(self, binding: Binding) -> None:
        key = f"cm:reg:{binding.username}"
        operations = [
            ("HSET", key, binding.contact, json.dumps(asdict(binding))),
            ("EXPIREAT", key, str(int(binding.expires_at) + 1)),
        ]
        if binding.agent_id:
            operations.append(("HSET", "cm:agent-user", binding.agent_id, binding.username))
        await self.writer.write(*operations)

    async def remove(self, username: str, contact: str | None = None) -> None:
        if contact is None:
            self.known.pop(username, None)
            await self.writer.write(("DEL", f"cm:reg:{username}"))
        else:
            self.known.get(username, {}).pop(contact, None)
            await self.writer.write(("HDEL", f"cm:reg:{username}", contact))

    async def of_agent(self, agent_id: str) -> list[Binding]:
        username = await self.redis.hget("cm:agent-user", agent_id)
        return (
            await self.of(username.decode() if isinstance(username, bytes) else username) if username else []
        )

    async def everyone(self) -> list[Binding]:
        now = time.time()
        found: list[Binding] = []
        async for key in self.redis.scan_iter(match="cm:reg:*", count=500):
            name = key.decode() if isinstance(key, bytes) else key
            found.extend(await self.of(name.removeprefix("cm:reg:"), now))
        return found

"""Redis lost what call-manager wrote (restarted empty, flushed): noticed by an epoch key and put
back from memory at once: the live calls and every live registration (with ``cm:agent-user``), so a
phone that is registered stays reachable and a restart or a takeover finds the calls."""

from __future__ import annotations

import logging
import os
import time

from redis.asyncio import Redis

from callisto_call_manager.bindings import Bindings
from callisto_call_manager.calls import CallTable

log = logging.getLogger(__name__)
EPOCH = "cm:epoch"


class StateGuard:
    def __init__(self, redis: Redis, table: CallTable, bindings: Bindings) -> None:
        self.redis = redis
        self.table = table
        self.bindings = bindings
        self.restores = 0

    async def mark(self) -> None:
        await self.table.writer.write(("SET", EPOCH, os.urandom(8).hex()))

    async def check(self) -> None:
        """Write everything back when the epoch is gone (Redis away: tried at the next check)."""
        try:
            if await self.redis.exists(EPOCH):
                return
            for binding in self.bindings.alive(time.time()):
                await self.bindings.write(binding)
            for call in list(self.table.calls.values()):
                await self.table.save(call)
            await self.mark()
        except Exception as exc:
            log.debug("checking Redis for lost state: %r", exc)
            return
        self.restores += 1
        log.warning("Redis had lost call-manager's state; written back from memory")

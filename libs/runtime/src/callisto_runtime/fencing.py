"""Fenced Redis writes for singletons: a stale active cannot overwrite its successor.

Every write goes through one Lua script that compares the writer's fencing token (its lease's
``token``: the lease bucket's generation and the revision of its last write, which only grow) with
the highest token Redis has seen under ``fence_key`` and refuses a lower one. An active that was
frozen past its lease (GC, SIGSTOP, a partition) and wakes up has an older token than its
successor's first write, so everything it tries is refused.
Without a token (not the lease holder) nothing is written at all.
"""

from __future__ import annotations

from collections.abc import Callable

import redis.asyncio as redis

from callisto_runtime.errors import NotActive

# ARGV: token, then operations (HSET key field value | HDEL key field | DEL key | SET key value |
# EXPIREAT key unix-seconds)
FENCED_WRITE = """
local seen = redis.call('GET', KEYS[1]) or ''
if not string.find(seen, '.', 1, true) then seen = '' end
local token = ARGV[1]
if token < seen then return redis.error_reply('FENCED ' .. seen) end
redis.call('SET', KEYS[1], ARGV[1])
local i = 2
while i <= #ARGV do
  local op = ARGV[i]
  if op == 'HSET' then redis.call('HSET', ARGV[i + 1], ARGV[i + 2], ARGV[i + 3]); i = i + 4
  elseif op == 'HDEL' then redis.call('HDEL', ARGV[i + 1], ARGV[i + 2]); i = i + 3
  elseif op == 'DEL' then redis.call('DEL', ARGV[i + 1]); i = i + 2
  elseif op == 'SET' then redis.call('SET', ARGV[i + 1], ARGV[i + 2]); i = i + 3
  elseif op == 'EXPIREAT' then redis.call('EXPIREAT', ARGV[i + 1], ARGV[i + 2]); i = i + 3
  else return redis.error_reply('unknown operation ' .. op) end
end
return 1
"""

Operation = tuple[str, ...]
Token = str | int  # a lease's token, or a bare number (generation 0)


def token_text(token: Token) -> str:
    """Tokens as fixed-width text, compared as strings by the script (Lua numbers are doubles)."""
    return token if isinstance(token, str) else f"{0:017d}.{token:020d}"


class Fenced(NotActive):
    """This instance may not write: it does not hold the lease, or a successor wrote after it."""

    error_id = "not-active"


class FencedWriter:
    """Writes to ``client`` that carry ``token()`` (None: this instance may not write)."""

    def __init__(self, client: redis.Redis, fence_key: str, token: Callable[[], Token | None]) -> None:
        self.client = client
        self.fence_key = fence_key
        self.token = token
        self._script = client.register_script(FENCED_WRITE)
        self.refused = 0  # writes refused, either way

    async def write(self, *operations: Operation) -> None:
        """Apply ``operations`` at once, or none of them (raising ``Fenced``)."""
        token = self.token()
        if token is None:
            self.refused += 1
            raise Fenced("not the lease holder: nothing is written")
        args: list[str] = [token_text(token)]
        for operation in operations:
            args.extend(operation)
        try:
            await self._script(keys=[self.fence_key], args=args)
        except redis.ResponseError as exc:
            if not str(exc).startswith("FENCED"):
                raise
            self.refused += 1
            raise Fenced(f"a successor wrote after this instance ({exc}): nothing is written") from None

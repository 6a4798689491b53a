"""Fenced writes on a real Redis: a lower fencing token than the highest seen writes nothing, no
token writes nothing, the operations of one write happen together."""

from __future__ import annotations

import pytest
import redis.asyncio as redis

from callisto_devkit.servers import RedisServer
from callisto_runtime.fencing import Fenced, FencedWriter

pytestmark = pytest.mark.integration


async def test_a_stale_writer_is_refused_and_writes_nothing(redis_server: RedisServer) -> None:
    client = redis.Redis.from_url(redis_server.url.rsplit("/", 1)[0] + "/14")
    await client.flushdb()
    token: dict[str, int | None] = {"old": 7, "new": 9, "none": None}
    old, new, nobody = (FencedWriter(client, "t:fence", lambda n=name: token[n]) for name in token)
    try:
        await old.write(("HSET", "t:h", "a", "1"), ("SET", "t:s", "x"), ("EXPIREAT", "t:s", "4102444800"))
        await new.write(("HSET", "t:h", "a", "2"), ("DEL", "t:s"))
        with pytest.raises(Fenced):  # the old leader woke up: its write is refused as a whole
            await old.write(("HSET", "t:h", "a", "3"), ("HDEL", "t:h", "a"))
        with pytest.raises(Fenced):  # not the lease holder at all
            await nobody.write(("HSET", "t:h", "b", "1"))
        assert await client.hgetall("t:h") == {b"a": b"2"}
        assert not await client.exists("t:s")
        assert (old.refused, new.refused, nobody.refused) == (1, 0, 1)
        assert await client.get("t:fence") == f"{0:017d}.{9:020d}".encode()
        await new.write(("HSET", "t:h", "a", "4"))  # the same token again is fine
        assert await client.hget("t:h", "a") == b"4"
    finally:
        await client.flushdb()
        await client.aclose()

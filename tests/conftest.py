"""Fixtures of the end-to-end tests."""

from __future__ import annotations

import pytest
import redis.asyncio as redis

from callisto_devkit.servers import RedisServer


@pytest.fixture
async def redis_url(redis_server: RedisServer) -> str:
    """The session's Redis, emptied."""
    client = redis.Redis.from_url(redis_server.url)
    await client.flushdb()
    await client.aclose()
    return redis_server.url

"""Key-value helpers over JetStream KV buckets."""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

import nats.js.errors
from nats.aio.client import Client
from nats.js.api import KeyValueConfig, StorageType
from nats.js.kv import KeyValue


async def ensure_bucket(
    nc: Client, bucket: str, *, ttl_s: float | None = None, history: int = 1, memory: bool = False
) -> KeyValue:
    """Open ``bucket``, creating it with the given bucket-level TTL if it does not exist yet.

    A bucket's TTL is fixed at creation (nats-server 2.9 has no per-key TTL); an existing bucket is
    used as it is.
    """
    js = nc.jetstream()
    try:
        return await js.key_value(bucket)
    except nats.js.errors.BucketNotFoundError:
        pass
    config = KeyValueConfig(
        bucket=bucket,
        history=history,
        ttl=ttl_s,
        storage=StorageType.MEMORY if memory else StorageType.FILE,
    )
    try:
        return await js.create_key_value(config)
    except nats.js.errors.BadRequestError:  # created concurrently by another instance
        return await js.key_value(bucket)


class Bucket(NamedTuple):
    kv: KeyValue
    generation: int  # when its stream was created, in microseconds (the NATS server's clock)
    ttl_s: float | None  # the TTL it was created with (whoever created it)


async def open_generation(nc: Client, bucket: str, *, ttl_s: float | None = None) -> Bucket:
    """``ensure_bucket`` with the bucket's generation (a bucket deleted and created again has a later
    one) and the TTL it really has: the one of whoever created it, which may not be ``ttl_s``."""
    kv = await ensure_bucket(nc, bucket, ttl_s=ttl_s)
    info = await nc.jetstream().stream_info(f"KV_{bucket}")
    created: datetime | None = info.created
    generation = int(created.timestamp() * 1_000_000) if created is not None else 0
    return Bucket(kv, generation, info.config.max_age or None)


async def get_value(kv: KeyValue, key: str) -> tuple[bytes, int] | None:
    """The value and revision of ``key``, or None when it is absent, deleted or expired."""
    try:
        entry = await kv.get(key)
    except (nats.js.errors.KeyNotFoundError, nats.js.errors.KeyDeletedError):
        return None
    if entry.value is None or entry.revision is None:
        return None
    return entry.value, entry.revision

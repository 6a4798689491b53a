"""Key-value helpers over JetStream KV buckets."""

from __future__ import annotations

from datetime import datetime

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


async def open_generation(nc: Client, bucket: str, *, ttl_s: float | None = None) -> tuple[KeyValue, int]:
    """``ensure_bucket`` and the bucket's generation: when its stream was created, in microseconds
    (the NATS server's clock; a bucket deleted and created again has a later one)."""
    kv = await ensure_bucket(nc, bucket, ttl_s=ttl_s)
    info = await nc.jetstream().stream_info(f"KV_{bucket}")
    created: datetime | None = info.created
    return kv, int(created.timestamp() * 1_000_000) if created is not None else 0


async def get_value(kv: KeyValue, key: str) -> tuple[bytes, int] | None:
    """The value and revision of ``key``, or None when it is absent, deleted or expired."""
    try:
        entry = await kv.get(key)
    except (nats.js.errors.KeyNotFoundError, nats.js.errors.KeyDeletedError):
        return None
    if entry.value is None or entry.revision is None:
        return None
    return entry.value, entry.revision

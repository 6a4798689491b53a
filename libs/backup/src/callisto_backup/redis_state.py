"""Redis's part: every key of the database with its type and contents (``DUMP``, Redis' own
serialisation) and its remaining time to live, restored with ``RESTORE``. One record per key:
4-byte lengths then key, payload and the TTL in milliseconds (-1: none)."""

from __future__ import annotations

import struct
from collections import Counter
from pathlib import Path

import redis.asyncio as redis

HEADER = struct.Struct(">IIq")
BATCH = 500


def prefix_of(key: bytes) -> str:
    """``qm:calls`` → ``qm``: the owner of a key (ARCHITECTURE.md's prefixes)."""
    return key.split(b":", 1)[0].decode(errors="replace") if b":" in key else "(none)"


async def version(url: str) -> str:
    client = redis.Redis.from_url(url)
    try:
        info = await client.info("server")
        return str(info.get("redis_version", "?"))
    finally:
        await client.aclose()


async def keys(url: str) -> list[bytes]:
    client = redis.Redis.from_url(url)
    try:
        return [key async for key in client.scan_iter(count=1000)]
    finally:
        await client.aclose()


async def counts(url: str) -> dict[str, int]:
    found = Counter(prefix_of(key) for key in await keys(url))
    return {"keys": sum(found.values()), **{f"prefix:{p}": n for p, n in sorted(found.items())}}


async def dump(url: str, target: Path) -> dict[str, int]:
    """Write every key; returns the counts of what was written."""
    client = redis.Redis.from_url(url)
    written: Counter[str] = Counter()
    try:
        names = [key async for key in client.scan_iter(count=1000)]
        with target.open("wb") as out:
            for start in range(0, len(names), BATCH):
                batch = names[start : start + BATCH]
                pipe = client.pipeline(transaction=False)
                for key in batch:
                    pipe.dump(key)
                    pipe.pttl(key)
                answers = await pipe.execute()
                for key, payload, ttl in zip(batch, answers[0::2], answers[1::2], strict=True):
                    if payload is None:  # expired or deleted since the scan
                        continue
                    out.write(HEADER.pack(len(key), len(payload), max(int(ttl), -1)))
                    out.write(key)
                    out.write(payload)
                    written[prefix_of(key)] += 1
    finally:
        await client.aclose()
    return {"keys": sum(written.values()), **{f"prefix:{p}": n for p, n in sorted(written.items())}}


def records(source: Path) -> list[tuple[bytes, bytes, int]]:
    found: list[tuple[bytes, bytes, int]] = []
    data = source.read_bytes()
    at = 0
    while at < len(data):
        key_len, payload_len, ttl = HEADER.unpack_from(data, at)
        at += HEADER.size
        key = data[at : at + key_len]
        payload = data[at + key_len : at + key_len + payload_len]
        at += key_len + payload_len
        found.append((key, payload, ttl))
    return found


async def restore(url: str, source: Path) -> list[bytes]:
    """RESTORE every key into an empty database; returns the keys, so that a restore failing later
    can take them back (a failure here takes back its own)."""
    client = redis.Redis.from_url(url)
    written: list[bytes] = []
    try:
        entries = records(source)
        for start in range(0, len(entries), BATCH):
            pipe = client.pipeline(transaction=False)
            for key, payload, ttl in entries[start : start + BATCH]:
                pipe.restore(key, max(ttl, 0), payload)
                written.append(key)
            await pipe.execute()
    except redis.RedisError:
        await forget(url, written)
        raise
    finally:
        await client.aclose()
    return written


async def flush(url: str) -> None:
    client = redis.Redis.from_url(url)
    try:
        await client.flushdb()
    finally:
        await client.aclose()


async def forget(url: str, written: list[bytes]) -> None:
    if not written:
        return
    client = redis.Redis.from_url(url)
    try:
        for start in range(0, len(written), BATCH):
            await client.delete(*written[start : start + BATCH])
    finally:
        await client.aclose()

"""Backup and restore against real servers: a source with rows, streams (a durable consumer part way
through, a KV bucket with history), a lease bucket and Redis keys of several types; restored into empty
NATS, Redis and PostgreSQL with every count, value and position equal; a second restore refused, a
forced one replacing; a corrupted archive refused and a failing PostgreSQL restore taken back, each
leaving the target as it was."""

from __future__ import annotations

import asyncio
import json
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import nats
import pytest
import redis.asyncio as redis
from nats.js.api import AckPolicy, ConsumerConfig, KeyValueConfig

from callisto_backup import ArchiveCorrupt, RestoreFailed, TargetNotEmpty, Targets, restore, take
from callisto_devkit.servers import NatsServer, PostgresServer, RedisServer
from callisto_protocol.streams import LEASES_BUCKET

pytestmark = pytest.mark.integration
EVENTS = 3000


@dataclass
class Suite:
    nats: NatsServer
    targets: Targets


def redis_db(server: RedisServer, db: int) -> str:
    return server.url.rsplit("/", 1)[0] + f"/{db}"


@pytest.fixture
def empty(tmp_path: Path, redis_server: RedisServer, postgres_server: PostgresServer) -> Iterator[Suite]:
    """Empty NATS (its own), Redis database 14 (flushed), a new PostgreSQL database."""
    server = NatsServer(store_dir=tmp_path / "empty-nats").start()
    asyncio.run(_flush(redis_db(redis_server, 14)))
    database = postgres_server.create_database(f"restored_{tmp_path.name[-12:].replace('-', '_')}")
    yield Suite(server, Targets(server.url, redis_db(redis_server, 14), database))
    server.stop()


@pytest.fixture
async def source(private_nats: NatsServer, redis_server: RedisServer, postgres_database: str) -> Suite:
    """A suite's state: rows in two schemas, CC_EVENTS with a durable consumer 100 messages in, a KV
    bucket with history, the lease bucket, Redis keys of four types (one with a time to live)."""
    url = redis_db(redis_server, 13)
    await _flush(url)
    connection = await asyncpg.connect(postgres_database)
    await connection.execute("""
        CREATE SCHEMA helpdesk; CREATE SCHEMA history;
        CREATE TABLE helpdesk.tickets (id bigint PRIMARY KEY, title text NOT NULL, body jsonb);
        CREATE TABLE history.calls (id text PRIMARY KEY, waited_s double precision,
                                    at timestamptz DEFAULT now());
        INSERT INTO helpdesk.tickets
             SELECT g, 'ticket ' || g, jsonb_build_object('n', g) FROM generate_series(1, 1500) g;
        INSERT INTO history.calls SELECT 'c-' || g, g / 10.0 FROM generate_series(1, 4000) g;
    """)  # fmt: skip
    await connection.close()
    nc = await nats.connect(private_nats.url)
    js = nc.jetstream()
    await js.add_stream(name="CC_EVENTS", subjects=["cc.call.>"])
    for n in range(EVENTS):
        await js.publish(f"cc.call.c-{n % 50}.state", json.dumps({"n": n}).encode())
    durable = ConsumerConfig(durable_name="snitch-history", ack_policy=AckPolicy.EXPLICIT)
    await js.add_consumer("CC_EVENTS", durable)
    pulled = await js.pull_subscribe_bind("snitch-history", "CC_EVENTS")
    for message in await pulled.fetch(100, timeout=5):
        await message.ack_sync()
    config = await js.create_key_value(KeyValueConfig(bucket="cc_config", history=5))
    for version in range(3):
        await config.put("dial-plan", f"version {version}".encode())
    await config.put("queues", b"billing")
    leases = await js.create_key_value(KeyValueConfig(bucket=LEASES_BUCKET, ttl=60))
    await leases.put("queue-manager", b"qm-1")
    await nc.close()
    client = redis.Redis.from_url(url)
    await client.hset("qm:calls", mapping={f"c-{n}": json.dumps({"queue": "billing"}) for n in range(40)})
    await client.set("cm:epoch", "7")
    await client.set("rt:wallboard", "{}", ex=3600)
    await client.zadd("qm:wait:billing", {f"c-{n}": n for n in range(40)})
    await client.rpush("rt:recent", *[f"c-{n}" for n in range(10)])
    await client.aclose()
    return Suite(private_nats, Targets(private_nats.url, url, postgres_database))


async def _flush(url: str) -> None:
    client = redis.Redis.from_url(url)
    await client.flushdb()
    await client.aclose()


async def state_of(targets: Targets) -> dict[str, object]:
    """What a person would compare: rows, the KV bucket's values and history, the consumer's place,
    Redis' values and whether a time to live survived."""
    connection = await asyncpg.connect(targets.database_url)
    rows = await connection.fetch("SELECT id, title, body FROM helpdesk.tickets ORDER BY id")
    calls = await connection.fetchval("SELECT sum(waited_s) FROM history.calls")
    await connection.close()
    nc = await targets.nats()
    js = nc.jetstream()
    config = await js.key_value("cc_config")
    history = [entry.value for entry in await config.history("dial-plan")]
    consumer = await js.consumer_info("CC_EVENTS", "snitch-history")
    stream = await js.stream_info("CC_EVENTS")
    await nc.close()
    client = redis.Redis.from_url(targets.redis_url)
    values = {
        "calls": await client.hgetall("qm:calls"),
        "epoch": await client.get("cm:epoch"),
        "wait": await client.zrange("qm:wait:billing", 0, -1, withscores=True),
        "recent": await client.lrange("rt:recent", 0, -1),
        "ttl_kept": 0 < await client.ttl("rt:wallboard") <= 3600,
    }
    await client.aclose()
    return {
        "tickets": [tuple(r) for r in rows], "calls": calls, "dial-plan history": history,
        "consumer at": (consumer.delivered.stream_seq, consumer.ack_floor.stream_seq, consumer.num_pending),
        "stream": (stream.state.messages, stream.state.first_seq, stream.state.last_seq), **values,
    }  # fmt: skip


async def test_a_backup_restored_into_empty_servers_gives_back_every_row_message_position_and_key(
    source: Suite, empty: Suite, tmp_path: Path
) -> None:
    archive = tmp_path / "suite.callisto-backup"
    manifest = await take(source.targets, archive, "0.1.0")
    assert not archive.with_name(archive.name + ".partial").exists()
    names = [p.name for p in manifest.parts]
    assert names == ["postgres", "stream/CC_EVENTS", "stream/KV_cc_config", "redis"]
    assert manifest.part("postgres").counts == {"helpdesk.tickets": 1500, "history.calls": 4000}
    assert manifest.part("stream/CC_EVENTS").counts["messages"] == EVENTS
    assert manifest.part("stream/CC_EVENTS").counts["durable_consumers"] == 1
    assert manifest.part("redis").counts["keys"] == 5
    assert f"stream KV_{LEASES_BUCKET}" in manifest.left_out and "recordings' audio" in manifest.left_out

    restored = await restore(empty.targets, archive)
    assert restored.equal, restored.differences
    assert await state_of(empty.targets) == await state_of(source.targets)

    # a second restore into what is no longer empty is refused, naming what is there, and changes nothing
    with pytest.raises(TargetNotEmpty) as refused:
        await restore(empty.targets, archive)
    assert {"PostgreSQL tables", "JetStream streams", "Redis keys"} == set(refused.value.found)
    assert "helpdesk.tickets" in str(refused.value)
    assert await state_of(empty.targets) == await state_of(source.targets)

    # forced: the target is replaced by the backup (a ticket written since is gone again)
    connection = await asyncpg.connect(empty.targets.database_url)
    await connection.execute("INSERT INTO helpdesk.tickets VALUES (9999, 'written after the restore', NULL)")
    await connection.close()
    forced = await restore(empty.targets, archive, force=True)
    assert forced.equal, forced.differences
    assert await state_of(empty.targets) == await state_of(source.targets)


async def test_a_corrupted_archive_is_refused_before_anything_is_written(
    source: Suite, empty: Suite, tmp_path: Path
) -> None:
    archive = tmp_path / "suite.callisto-backup"
    manifest = await take(source.targets, archive, "0.1.0")
    data = bytearray(archive.read_bytes())
    with tarfile.open(archive) as tar:
        dump = tar.getmember(manifest.part("postgres").file)
    data[dump.offset_data + dump.size // 2] ^= 0xFF  # one bit in the middle of the PostgreSQL dump
    broken = tmp_path / "broken.callisto-backup"
    broken.write_bytes(bytes(data))
    with pytest.raises(ArchiveCorrupt, match="checksum"):
        await restore(empty.targets, broken)
    truncated = tmp_path / "truncated.callisto-backup"
    truncated.write_bytes(archive.read_bytes()[: archive.stat().st_size // 2])
    with pytest.raises(ArchiveCorrupt):
        await restore(empty.targets, truncated)
    not_ours = tmp_path / "notes.txt"
    not_ours.write_text("hello")
    with pytest.raises(ArchiveCorrupt, match="not a readable backup archive"):
        await restore(empty.targets, not_ours)
    await assert_empty(empty.targets)


async def test_a_failing_postgresql_restore_takes_back_the_streams_and_keys_already_written(
    source: Suite, empty: Suite, tmp_path: Path
) -> None:
    archive = tmp_path / "suite.callisto-backup"
    await take(source.targets, archive, "0.1.0")
    connection = await asyncpg.connect(empty.targets.database_url)
    await connection.execute("CREATE SCHEMA history")  # no table: the target looks empty, pg_restore fails
    await connection.close()
    with pytest.raises(RestoreFailed, match="pg_restore"):
        await restore(empty.targets, archive)
    await assert_empty(empty.targets)


async def assert_empty(targets: Targets) -> None:
    nc = await targets.nats()
    names = [info.config.name for info in await nc.jetstream().streams_info()]
    await nc.close()
    assert names == []
    client = redis.Redis.from_url(targets.redis_url)
    assert await client.dbsize() == 0
    await client.aclose()
    connection = await asyncpg.connect(targets.database_url)
    tables = "SELECT count(*) FROM information_schema.tables WHERE table_schema NOT LIKE ALL($1::text[])"
    assert await connection.fetchval(tables, ["pg_catalog", "information_schema"]) == 0
    await connection.close()

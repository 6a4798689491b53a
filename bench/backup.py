"""Backup and restore benchmark: a million contacts and a million history rows, the event stream and
Redis' live state, backed up and restored into empty servers.

    .venv/bin/python bench/backup.py [--contacts 1000000] [--history 1000000] [--events 100000]

Its own NATS, Redis and PostgreSQL (twice: the source and the empty target). The source: contacts in
``helpdesk.contacts`` and calls in ``history.calls`` loaded with generate_series, ``--events`` events in
CC_EVENTS with a durable consumer half way, a KV bucket, 10,000 Redis keys. ``callisto_backup.take``
writes the archive; ``restore`` brings it into the empty servers and reads every count back.
Throughput in MB/s is the archive's size over the wall time of each (pg_dump and pg_restore dominate);
the database's own size on disk is printed beside it (pg_dump's format compresses it several times).
``config_apply_p99_s``: a configuration change as core-bus makes it (the owner's validation over the
bus with a person's token, then the compare-and-set write) until the owner service has applied it
(its watch), ``--changes`` times on a document of 20 queues. Last line: one JSON object with the
figures beside their goals.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import nats
import redis.asyncio as redis
from nats.js.api import AckPolicy, ConsumerConfig, KeyValueConfig
from prometheus_client import CollectorRegistry
from pydantic import BaseModel, Field

from callisto_backup import Targets, restore, take
from callisto_devkit.issuer import TestIssuer
from callisto_devkit.servers import NatsServer, PostgresServer, RedisServer
from callisto_protocol.configuration import CONFIG_BUCKET, ConfigValid, ConfigVersion, ValidateConfig
from callisto_runtime import Bus, Mode, Service, ServiceSettings
from callisto_runtime.metrics import BusMetrics

GOALS = {"config_apply_p99_s": 1.0}
KEY = "queue-manager.queues"


async def fill(targets: Targets, contacts: int, history: int, events: int) -> None:
    connection = await asyncpg.connect(targets.database_url)
    await connection.execute(f"""
        CREATE SCHEMA helpdesk; CREATE SCHEMA history;
        CREATE TABLE helpdesk.contacts (id bigint PRIMARY KEY, name text, phone text, email text,
                                        attributes jsonb);
        CREATE TABLE history.calls (id text PRIMARY KEY, queue_id text, caller text,
                                    waited_s double precision, talked_s double precision,
                                    answered_by text, started_at timestamptz);
        INSERT INTO helpdesk.contacts
             SELECT g, 'Customer ' || g, '+7900' || lpad(g::text, 7, '0'), 'c' || g || '@example.org',
                    jsonb_build_object('account', g * 7, 'district', g % 40)
               FROM generate_series(1, {contacts}) g;
        INSERT INTO history.calls
             SELECT 'call-' || g, 'queue-' || (g % 20), '+7900' || lpad((g % 99991)::text, 7, '0'),
                    (g % 97) / 3.0, (g % 600)::float, 'agent-' || (g % 150),
                    now() - (g || ' seconds')::interval
               FROM generate_series(1, {history}) g;
    """)  # fmt: skip
    await connection.close()
    nc = await nats.connect(targets.nats_url)
    js = nc.jetstream()
    await js.add_stream(name="CC_EVENTS", subjects=["cc.call.>"])
    body = json.dumps({"state": "answered", "queue_id": "billing", "agent_id": "agent-7"}).encode()
    for start in range(0, events, 1000):
        batch = range(start, min(events, start + 1000))
        await asyncio.gather(*(js.publish(f"cc.call.c-{n}.state", body) for n in batch))
    durable = ConsumerConfig(durable_name="snitch-history", ack_policy=AckPolicy.EXPLICIT)
    await js.add_consumer("CC_EVENTS", durable)
    config = await js.create_key_value(KeyValueConfig(bucket="cc_config", history=10))
    await config.put("dial-plan", b"numbers: {}")
    await nc.close()
    client = redis.Redis.from_url(targets.redis_url)
    pipe = client.pipeline(transaction=False)
    for n in range(10_000):
        pipe.hset(f"qm:agent:{n}", mapping={"state": "ready", "skills": "billing,water"})
    await pipe.execute()
    await client.aclose()


class Queue(BaseModel):
    id: str
    strategy: str


class Queues(BaseModel):
    queues: list[Queue] = Field(min_length=1)


async def config_apply(nats_url: str, changes: int) -> list[float]:
    """Seconds from each change's validation request to its owner applying it, sorted."""
    issuer = TestIssuer()
    await issuer.start(nats_url)
    applied: dict[int, float] = {}
    settings = ServiceSettings(nats_url=nats_url, http_port=0, mode=Mode.DEVELOPMENT)
    owner = Service("queue-manager", "bench", settings)
    changed = asyncio.Event()

    async def apply(_: Queues, version: int) -> None:
        applied[version] = time.monotonic()
        changed.set()

    body = {"queues": [{"id": f"q{n}", "strategy": "longest_idle"} for n in range(20)]}
    owner.configuration.own("queues", Queues.model_validate, apply, lambda: body)
    await owner.start()
    writer = Bus("core-bus", "bench", BusMetrics(CollectorRegistry()))
    await writer.start(nats_url)
    await writer.wait_connected(10)
    try:
        while not owner.configuration.applied:
            await asyncio.sleep(0.01)
        kv = await writer.nc.jetstream().key_value(CONFIG_BUCKET)
        token = issuer.token("config.write")
        took: list[float] = []
        for n in range(changes):
            body["queues"][n % 20]["strategy"] = ("round_robin", "longest_idle")[n % 2]
            changed.clear()
            started = time.monotonic()
            check = ValidateConfig(service="queue-manager", document=KEY, body=body)
            await writer.call(check, ConfigValid, token=token, timeout=5)
            current = await kv.get(KEY)
            value = ConfigVersion(body=body, by="bench", at=datetime.now(UTC), comment=f"change {n}")
            version = await kv.update(KEY, value.model_dump_json().encode(), last=current.revision)
            while version not in applied:
                await asyncio.wait_for(changed.wait(), 5)
                changed.clear()
            took.append(applied[version] - started)
        return sorted(took)
    finally:
        await writer.close()
        await owner.stop()
        await issuer.stop()


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--contacts", type=int, default=1_000_000)
    parser.add_argument("--history", type=int, default=1_000_000)
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--changes", type=int, default=200)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="callisto-bench-backup-"))
    nats_a = NatsServer(store_dir=work / "nats-a").start()
    nats_b = NatsServer(store_dir=work / "nats-b").start()
    redis_server = RedisServer(data_dir=work / "redis").start()
    postgres = PostgresServer().start()  # a folder the postgres user can reach
    servers = [nats_a, nats_b, redis_server, postgres]
    try:
        base = redis_server.url.rsplit("/", 1)[0]
        source = Targets(nats_a.url, f"{base}/0", postgres.create_database("source"))
        target = Targets(nats_b.url, f"{base}/1", postgres.create_database("target"))
        started = time.monotonic()
        await fill(source, args.contacts, args.history, args.events)
        filled = time.monotonic() - started
        print(f"filled in {filled:.1f} s: {args.contacts} contacts, {args.history} history rows, "
              f"{args.events} events, 10000 Redis keys")  # fmt: skip
        connection = await asyncpg.connect(source.database_url)
        database_mb = int(await connection.fetchval("SELECT pg_database_size(current_database())")) / 1e6
        await connection.close()
        archive = work / "suite.backup"
        started = time.monotonic()
        manifest = await take(source, archive, "bench")
        backup_s = time.monotonic() - started
        size_mb = archive.stat().st_size / 1e6
        parts = ", ".join(f"{p.name} {p.bytes / 1e6:.1f} MB" for p in manifest.parts)
        print(f"backup: {size_mb:.1f} MB in {backup_s:.2f} s ({size_mb / backup_s:.1f} MB/s of archive, "
              f"{database_mb / backup_s:.1f} MB/s of the {database_mb:.0f} MB database); parts: {parts}")
        started = time.monotonic()
        restored = await restore(target, archive)
        restore_s = time.monotonic() - started
        print(f"restore: {size_mb:.1f} MB in {restore_s:.2f} s ({size_mb / restore_s:.1f} MB/s), "
              f"counts equal: {restored.equal} {restored.differences or ''}")  # fmt: skip
        applies = await config_apply(nats_a.url, args.changes)
        p99 = applies[min(len(applies) - 1, int(len(applies) * 0.99))]
        p50 = applies[len(applies) // 2]
        print(f"configuration change to applied by its owner: p50 {p50 * 1000:.1f} ms, "
              f"p99 {p99 * 1000:.1f} ms over {len(applies)} changes")  # fmt: skip
        figures = {
            "config_apply_p99_s": round(p99, 4), "goal_config_apply_p99_s": GOALS["config_apply_p99_s"],
            "backup_mb_per_s": round(size_mb / backup_s, 1),
            "restore_mb_per_s": round(size_mb / restore_s, 1),
            "restore_equal": restored.equal, "archive_mb": round(size_mb, 1),
            "database_mb": round(database_mb), "backup_s": round(backup_s, 2),
            "restore_s": round(restore_s, 2),
        }  # fmt: skip
        print(json.dumps(figures))
    finally:
        for server in reversed(servers):
            server.stop()


if __name__ == "__main__":
    asyncio.run(main())

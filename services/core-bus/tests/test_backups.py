"""Backups over the control API and on a schedule, of a real NATS, Redis and PostgreSQL: taken by an
administrator, listed, downloaded as the archive `callisto restore` reads; the active instance keeps
the newest BACKUP_KEEP of its scheduled ones; refused without the permission or the settings."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import asyncpg
import redis.asyncio as redis
from core_bus_testing import core_bus, eventually

from callisto_backup.archive import read_manifest
from callisto_devkit.issuer import TestIssuer
from callisto_devkit.servers import NatsServer, RedisServer


async def _some_state(database: str, redis_url: str) -> None:
    connection = await asyncpg.connect(database)
    await connection.execute("""
        CREATE SCHEMA IF NOT EXISTS helpdesk;
        CREATE TABLE IF NOT EXISTS helpdesk.tickets (id int PRIMARY KEY);
        INSERT INTO helpdesk.tickets SELECT generate_series(1, 25) ON CONFLICT DO NOTHING""")
    await connection.close()
    client = redis.Redis.from_url(redis_url)
    await client.set("qm:epoch", "3")
    await client.aclose()


async def test_a_backup_taken_listed_downloaded_and_the_schedule_keeping_the_newest(
    private_nats: NatsServer, token_issuer: TestIssuer, redis_server: RedisServer, postgres_database: str,
    tmp_path: Path,
) -> None:  # fmt: skip
    redis_url = redis_server.url.rsplit("/", 1)[0] + "/12"
    await _some_state(postgres_database, redis_url)
    folder = tmp_path / "backups"
    folder.mkdir()
    settings = {"backup_dir": folder, "backup_database_url": postgres_database, "backup_redis_url": redis_url}
    async with core_bus(private_nats.url, token_issuer, **settings) as (http, _):
        taken = await http.post("/api/v1/backups")
        assert taken.status_code == 201, taken.text
        summary = taken.json()
        assert summary["parts"]["postgres"]["helpdesk.tickets"] == 25
        assert summary["parts"]["redis"]["keys"] >= 1 and "stream/CC_EVENTS" not in summary["left_out"]
        listed = (await http.get("/api/v1/backups")).json()
        assert [b["name"] for b in listed] == [summary["name"]]
        download = await http.get(f"/api/v1/backups/{summary['name']}")
        assert download.status_code == 200 and download.content == (folder / summary["name"]).read_bytes()
        with tarfile.open(fileobj=io.BytesIO(download.content)) as tar:
            assert tar.getnames()[0] == "manifest.json"
        assert (await http.get("/api/v1/backups/callisto-20260101T000000Z.backup")).status_code == 404
        assert (await http.get("/api/v1/backups/..%2Fsecrets")).status_code in (404, 422)
        metrics = (await http.get("/metrics")).text
        assert 'callisto_core_bus_backups_total{outcome="taken"} 1.0' in metrics

    async with core_bus(private_nats.url, token_issuer, "core-bus.services.read", **settings) as (http, _):
        assert (await http.post("/api/v1/backups")).status_code == 403

    async with core_bus(private_nats.url, token_issuer) as (http, _):
        off = await http.post("/api/v1/backups")
        assert off.status_code == 503 and off.json()["error_id"] == "backups-off"

    scheduled = {**settings, "backup_every_s": 0.3, "backup_keep": 2}
    async with core_bus(private_nats.url, token_issuer, **scheduled):

        def kept() -> list[str]:
            return [p.name for p in folder.glob("callisto-*.backup")]

        # two scheduled backups in, the manual one (the oldest) is gone and two remain
        await eventually(lambda: summary["name"] not in kept() and len(kept()) == 2, 30, "newest two kept")
        for name in kept():
            assert read_manifest(folder / name).part("postgres").counts["helpdesk.tickets"] == 25

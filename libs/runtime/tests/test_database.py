"""PostgreSQL access and migrations against a real server."""

from __future__ import annotations

import asyncio
from pathlib import Path

import asyncpg
import pytest

from callisto_devkit.servers import PostgresServer
from callisto_runtime.database import Database, MigrationError, migrations_in

pytestmark = pytest.mark.integration


def write(folder: Path, files: dict[str, str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, sql in files.items():
        (folder / name).write_text(sql)
    return folder


async def test_migrations_apply_once_in_order_even_when_instances_start_together(
    postgres_server: PostgresServer, tmp_path: Path
) -> None:
    folder = write(
        tmp_path / "m",
        {
            "0001_items.sql": "CREATE TABLE items (id serial PRIMARY KEY, name text NOT NULL);",
            "0002_seed.sql": "INSERT INTO items (name) VALUES ('first');",
        },
    )
    first, second = (Database(postgres_server.dsn, "mig_a", folder) for _ in range(2))
    first.start()
    second.start()
    await asyncio.gather(first.wait_ready(20), second.wait_ready(20))
    try:
        assert await first.pool.fetchval("SELECT count(*) FROM items") == 1
        names = [
            r["name"] for r in await first.pool.fetch("SELECT name FROM schema_migrations ORDER BY number")
        ]
        assert names == ["0001_items.sql", "0002_seed.sql"]
        write(folder, {"0003_more.sql": "INSERT INTO items (name) VALUES ('second');"})
        assert await first.migrate(first.pool) == ["0003_more.sql"]
        assert await first.migrate(first.pool) == []
        assert await first.healthy()
    finally:
        await first.close()
        await second.close()


async def test_a_failing_migration_changes_nothing_and_keeps_the_service_not_ready(
    postgres_server: PostgresServer, tmp_path: Path
) -> None:
    folder = write(
        tmp_path / "m",
        {
            "0001_ok.sql": "CREATE TABLE ok (id int);",
            "0002_bad.sql": "CREATE TABLE half (id int); INSERT INTO nowhere VALUES (1);",
        },
    )
    db = Database(postgres_server.dsn, "mig_b", folder)
    db.start()
    await asyncio.sleep(2)
    assert not db._ready.is_set()
    assert isinstance(db.failure, asyncpg.UndefinedTableError)
    assert not await db.healthy()
    conn = await asyncpg.connect(postgres_server.dsn)
    try:
        assert await conn.fetchval("SELECT to_regclass('mig_b.ok') IS NOT NULL")
        assert await conn.fetchval(
            "SELECT to_regclass('mig_b.half') IS NULL"
        )  # rolled back with its migration
        assert await conn.fetchval("SELECT count(*) FROM mig_b.schema_migrations") == 1
    finally:
        await conn.close()
        await db.close()


@pytest.mark.unit
@pytest.mark.parametrize("files", [{"1_x.sql": ""}, {"0001_a.sql": "", "0003_c.sql": ""}, {"0002_b.sql": ""}])
def test_malformed_migration_folders(tmp_path: Path, files: dict[str, str]) -> None:
    with pytest.raises(MigrationError):
        migrations_in(write(tmp_path / "m", files))


@pytest.mark.fault
async def test_readiness_follows_a_postgres_restart(tmp_path: Path) -> None:
    server = PostgresServer(data_dir=Path("/tmp") / f"callisto-pg-db-{tmp_path.name}" / "data").start()
    db = Database(server.dsn, "mig_c")
    try:
        db.start()
        await db.wait_ready(20)
        assert await db.healthy()
        server.stop()
        assert not await db.healthy()
        server.start()
        for _ in range(50):
            if await db.healthy():
                break
            await asyncio.sleep(0.2)
        assert await db.healthy()
    finally:
        await db.close()
        server.stop()

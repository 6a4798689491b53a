"""PostgreSQL for a service: an asyncpg pool opened in the background (the service starts and
reports not-ready while PostgreSQL is away), a readiness check, and numbered migrations.

Migrations are the ``NNNN_name.sql`` files of one folder, applied in order, each once, each in its
own transaction, under a PostgreSQL advisory lock so that instances starting together never apply
one twice. What was applied is recorded in ``<schema>.schema_migrations``.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
from pathlib import Path

import asyncpg

from callisto_runtime.errors import CallistoError

log = logging.getLogger(__name__)
_MIGRATION_RE = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")
_SCHEMA_RE = re.compile(r"^[a-z][a-z0-9_]{0,62}$")


class DatabaseUnavailable(CallistoError):
    status = 503
    error_id = "database-unavailable"


class MigrationError(CallistoError):
    error_id = "migration-failed"


def migrations_in(folder: Path) -> list[tuple[int, str, str]]:
    """(number, file name, SQL) of every migration file, in order; refuses gaps and duplicates."""
    found: list[tuple[int, str, str]] = []
    for path in sorted(folder.glob("*.sql")):
        match = _MIGRATION_RE.match(path.name)
        if match is None:
            raise MigrationError(f"migration file name {path.name!r} is not NNNN_name.sql")
        found.append((int(match.group(1)), path.name, path.read_text()))
    numbers = [n for n, _, _ in found]
    if numbers != list(range(1, len(numbers) + 1)):
        raise MigrationError(f"migrations must be numbered 1..n without gaps, found {numbers}")
    return found


class Database:
    def __init__(
        self, dsn: str, schema: str, migrations: Path | None = None, *, min_size: int = 1, max_size: int = 10
    ) -> None:
        if not _SCHEMA_RE.match(schema):
            raise ValueError(f"schema name {schema!r}")
        self.dsn = dsn
        self.schema = schema
        self.migrations = migrations
        self.min_size = min_size
        self.max_size = max_size
        self._pool: asyncpg.Pool | None = None
        self._ready = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.failure: BaseException | None = None  # a migration that failed: the service stays not-ready

    @property
    def pool(self) -> asyncpg.Pool:
        if self._pool is None:
            raise DatabaseUnavailable("PostgreSQL is not connected yet")
        return self._pool

    def start(self) -> None:
        """Connect and migrate in the background, retrying until PostgreSQL answers."""
        if self._task is None:
            self._task = asyncio.create_task(self._open(), name=f"database-{self.schema}")

    async def wait_ready(self, timeout: float | None = None) -> None:
        await asyncio.wait_for(self._ready.wait(), timeout)

    async def _open(self) -> None:
        delay = 0.2
        while True:
            try:
                pool = await asyncpg.create_pool(
                    self.dsn,
                    min_size=self.min_size,
                    max_size=self.max_size,
                    # no JIT: services ask short queries, and compiling one cost more than running it
                    # (snitch's year report: 1.7 of 2.1 s)
                    server_settings={"search_path": f"{self.schema},public", "jit": "off"},
                )
                break
            except (OSError, asyncpg.PostgresError) as exc:
                log.warning("PostgreSQL not reachable yet (%r); retrying", exc)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
        try:
            await self.migrate(pool)
        except Exception as exc:
            self.failure = exc
            log.exception("migrations of schema %s failed; the service stays not ready", self.schema)
            await pool.close()
            return
        self._pool = pool
        self._ready.set()

    async def migrate(self, pool: asyncpg.Pool) -> list[str]:
        """Apply what is not applied yet; returns the names applied now."""
        applied_now: list[str] = []
        async with pool.acquire() as conn:
            lock = int.from_bytes(
                hashlib.sha256(f"callisto:{self.schema}".encode()).digest()[:8], "big", signed=True
            )
            await conn.execute("SELECT pg_advisory_lock($1)", lock)
            try:
                await conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{self.schema}"')
                table = f'"{self.schema}".schema_migrations'
                await conn.execute(
                    f"CREATE TABLE IF NOT EXISTS {table} (number integer PRIMARY KEY, name text NOT NULL, "
                    "applied_at timestamptz NOT NULL DEFAULT now())"
                )
                done = {
                    r["number"]
                    for r in await conn.fetch(f'SELECT number FROM "{self.schema}".schema_migrations')
                }
                for number, name, sql in migrations_in(self.migrations) if self.migrations else []:
                    if number in done:
                        continue
                    async with conn.transaction():
                        await conn.execute(f'SET LOCAL search_path TO "{self.schema}", public')
                        await conn.execute(sql)
                        await conn.execute(
                            f'INSERT INTO "{self.schema}".schema_migrations (number, name) VALUES ($1, $2)',
                            number,
                            name,
                        )
                    applied_now.append(name)
                    log.info("migration %s applied", name)
            finally:
                await conn.execute("SELECT pg_advisory_unlock($1)", lock)
        return applied_now

    async def healthy(self) -> bool:
        """For /readyz: the pool exists and answers a trivial query."""
        if self._pool is None:
            return False
        try:
            async with self._pool.acquire(timeout=1.0) as conn:
                await conn.fetchval("SELECT 1", timeout=1.0)
        except (OSError, asyncpg.PostgresError, TimeoutError, asyncpg.InterfaceError):
            return False
        return True

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        if self._pool is not None:
            await self._pool.close()
            self._pool = None

"""PostgreSQL's part: every schema of the database by ``pg_dump --format=custom`` (compressed, restorable
table by table), restored by ``pg_restore`` in one transaction (all or nothing), and the rows of every
table counted on both sides."""

from __future__ import annotations

import asyncio
import glob
import shutil
from pathlib import Path

import asyncpg

from callisto_backup.errors import ToolFailed

SYSTEM_SCHEMAS = ("pg_catalog", "information_schema")
TABLES = """
SELECT table_schema, table_name FROM information_schema.tables
 WHERE table_type = 'BASE TABLE' AND table_schema <> ALL($1::text[]) AND table_schema NOT LIKE 'pg_toast%'
 ORDER BY 1, 2
"""


def tool(name: str) -> str:
    """The newest installed PostgreSQL's ``name`` (Debian keeps each major version's client apart)."""
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), key=lambda p: int(Path(p).parts[4]))
    found = candidates[-1] if candidates else shutil.which(name)
    if found is None:
        raise ToolFailed(f"{name} is not installed (Debian package postgresql-client)")
    return found


async def _run(*argv: str) -> str:
    process = await asyncio.create_subprocess_exec(
        *argv, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await process.communicate()
    if process.returncode != 0:
        raise ToolFailed(f"{Path(argv[0]).name} failed: {err.decode(errors='replace').strip()[-2000:]}")
    return out.decode(errors="replace")


async def tables(dsn: str) -> list[str]:
    connection = await asyncpg.connect(dsn)
    try:
        return [f"{r[0]}.{r[1]}" for r in await connection.fetch(TABLES, list(SYSTEM_SCHEMAS))]
    finally:
        await connection.close()


async def counts(dsn: str) -> dict[str, int]:
    """Rows of every table outside PostgreSQL's own schemas, by ``schema.table``."""
    connection = await asyncpg.connect(dsn)
    try:
        return await counts_in(connection)
    finally:
        await connection.close()


async def counts_in(connection: asyncpg.Connection) -> dict[str, int]:
    found: dict[str, int] = {}
    for schema, table in await connection.fetch(TABLES, list(SYSTEM_SCHEMAS)):
        quoted = ".".join('"' + name.replace('"', '""') + '"' for name in (schema, table))
        found[f"{schema}.{table}"] = int(await connection.fetchval(f"SELECT count(*) FROM {quoted}"))
    return found


async def dump(dsn: str, target: Path, *, snapshot: str | None = None) -> None:
    """The whole database; with ``snapshot`` (``pg_export_snapshot()`` of an open transaction) exactly
    what that transaction sees."""
    argv = [tool("pg_dump"), "--format=custom", "--no-owner", "--no-privileges", f"--file={target}"]
    if snapshot is not None:
        argv.append(f"--snapshot={snapshot}")
    await _run(*argv, dsn)


async def check(source: Path) -> None:
    """pg_restore reads the dump's table of contents: a dump it cannot read is refused before restoring."""
    await _run(tool("pg_restore"), "--list", str(source))


async def restore(dsn: str, source: Path, *, clean: bool) -> None:
    argv = [tool("pg_restore"), "--single-transaction", "--exit-on-error", "--no-owner", "--no-privileges"]
    if clean:
        argv += ["--clean", "--if-exists"]
    await _run(*argv, f"--dbname={dsn}", str(source))

"""Take a backup: PostgreSQL, the JetStream streams, Redis, into one archive with its manifest.

PostgreSQL's rows are counted in the very snapshot pg_dump reads (an exported snapshot), the streams'
counts are those the server gave with each snapshot and Redis' those of the keys written, so a restore
can prove it brought back exactly what was taken, however busy the suite was meanwhile."""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime
from pathlib import Path

import asyncpg

from callisto_backup import archive, jetstream, postgres, redis_state
from callisto_backup.manifest import Manifest, Part
from callisto_backup.targets import Targets

LEFT_OUT = {
    "recordings' audio": "stays in the recording storage (its own backup: object storage versioning or "
    "the archive directory); the recordings' rows are in the PostgreSQL part",
    "configuration files": "the dial plan, queues, KPI definitions and staff files belong to the "
    "deployment (kept with it)",
}


async def take(targets: Targets, target: Path, software: str) -> Manifest:
    """Write the archive ``target`` (whole or not at all) and return its manifest."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".callisto-backup-", dir=target.parent) as scratch:
        folder = Path(scratch)
        parts: list[Part] = []
        left_out = dict(LEFT_OUT)

        dump = folder / "postgres.dump"
        connection = await asyncpg.connect(targets.database_url)
        try:
            async with connection.transaction(isolation="repeatable_read", readonly=True):
                exported = str(await connection.fetchval("SELECT pg_export_snapshot()"))
                await postgres.dump(targets.database_url, dump, snapshot=exported)
                rows = await postgres.counts_in(connection)
                postgres_version = str(await connection.fetchval("SHOW server_version"))
        finally:
            await connection.close()
        parts.append(_part("postgres", "postgres", dump, rows))

        nc = await targets.nats()
        try:
            servers = {"nats": str(nc.connected_server_version)}
            for name, info in sorted((await jetstream.streams(nc)).items()):
                if name in jetstream.VOLATILE:
                    left_out[f"stream {name}"] = jetstream.VOLATILE[name]
                    continue
                if info["config"].get("storage") == "memory":
                    left_out[f"stream {name}"] = "kept in memory by design: nothing to keep"
                    continue
                file = folder / f"stream-{name}.tar.s2"
                meta = await jetstream.snapshot(nc, name, file)
                counts = jetstream.counts(meta, await jetstream.durables(nc, name))
                parts.append(_part(f"stream/{name}", "stream", file, counts, meta))
        finally:
            await nc.close()

        state = folder / "redis.dump"
        keys = await redis_state.dump(targets.redis_url, state)
        parts.append(_part("redis", "redis", state, keys))

        servers["postgres"] = postgres_version
        servers["redis"] = await redis_state.version(targets.redis_url)
        manifest = Manifest(created_at=datetime.now(UTC), software=software, servers=servers, parts=parts,
                            left_out=left_out)  # fmt: skip
        archive.write(folder, manifest, target)
    return manifest


def _part(
    name: str, kind: str, path: Path, counts: dict[str, int], meta: dict[str, object] | None = None
) -> Part:
    return Part.model_validate({
        "name": name, "kind": kind, "file": path.name, "bytes": path.stat().st_size,
        "sha256": archive.sha256_of(path), "counts": counts, "meta": meta or {},
    })  # fmt: skip

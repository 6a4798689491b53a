"""Restore a backup into NATS, Redis and PostgreSQL.

Before anything is written: the archive is checked (manifest, every part's size and checksum, the
PostgreSQL dump readable by pg_restore) and the target looked at: tables, streams or keys already
there refuse the restore unless it is forced (then the streams named in the backup are replaced,
Redis is emptied and pg_restore cleans what it restores). Then the streams, Redis, and PostgreSQL
last, in one transaction: if PostgreSQL fails, the keys and streams written are taken back, so the
target is left as it was found (empty, or emptied by force). Afterwards every count is read again
and compared with the manifest's."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from callisto_backup import archive, jetstream, postgres, redis_state
from callisto_backup.errors import RestoreFailed, TargetNotEmpty
from callisto_backup.manifest import Manifest
from callisto_backup.targets import Targets


@dataclass
class Restored:
    manifest: Manifest
    counts: dict[str, dict[str, int]]  # by part, as read back from the target
    differences: dict[str, dict[str, tuple[int, int | None]]] = field(default_factory=dict)

    @property
    def equal(self) -> bool:
        return not self.differences


async def restore(targets: Targets, source: Path, *, force: bool = False) -> Restored:
    with tempfile.TemporaryDirectory(prefix=".callisto-restore-") as scratch:
        folder = Path(scratch)
        manifest = archive.extract(source, folder)
        await postgres.check(folder / manifest.part("postgres").file)
        streams = [p for p in manifest.parts if p.kind == "stream"]

        nc = await targets.nats()
        try:
            existing = {name for name in await jetstream.streams(nc) if name not in jetstream.VOLATILE}
            found = {
                "PostgreSQL tables": await postgres.tables(targets.database_url),
                "JetStream streams": sorted(existing),
                "Redis keys": [k.decode(errors="replace") for k in await redis_state.keys(targets.redis_url)],
            }
            found = {where: what for where, what in found.items() if what}
            if found and not force:
                raise TargetNotEmpty(found)

            made: list[str] = []
            written: list[bytes] = []
            try:
                for part in streams:
                    name = part.name.removeprefix("stream/")
                    if name in existing:
                        await jetstream.delete(nc, name)
                    await jetstream.restore(nc, part.meta, folder / part.file)
                    made.append(name)
                if force:
                    await redis_state.flush(targets.redis_url)
                written = await redis_state.restore(targets.redis_url, folder / manifest.part("redis").file)
                await postgres.restore(targets.database_url, folder / manifest.part("postgres").file,
                                       clean=bool(found))  # fmt: skip
            except Exception as exc:
                await redis_state.forget(targets.redis_url, written)
                for name in made:
                    await jetstream.delete(nc, name)
                raise RestoreFailed(f"{exc}; the streams and keys already restored were taken back") from exc

            now = await jetstream.streams(nc)
            counts: dict[str, dict[str, int]] = {}
            for part in streams:
                name = part.name.removeprefix("stream/")
                if name in now:
                    counts[part.name] = jetstream.counts(now[name], await jetstream.durables(nc, name))
        finally:
            await nc.close()

        counts["postgres"] = await postgres.counts(targets.database_url)
        counts["redis"] = await redis_state.counts(targets.redis_url)
        restored = Restored(manifest, counts)
        for part in manifest.parts:
            got = counts.get(part.name, {})  # a stream that did not come back counts nothing
            for key, want in part.counts.items():
                if got.get(key) != want:
                    restored.differences.setdefault(part.name, {})[key] = (want, got.get(key))
        return restored

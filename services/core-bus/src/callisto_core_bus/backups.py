"""Backups over the control API and on a schedule: each one a whole archive of the suite's state
(libs/backup) in BACKUP_DIR, named by when it was taken; the active instance takes the scheduled ones
and keeps the newest BACKUP_KEEP of them. One backup at a time per instance."""

from __future__ import annotations

import asyncio
import logging
import re
import time
from datetime import UTC, datetime
from pathlib import Path

from prometheus_client import CollectorRegistry, Counter, Gauge
from pydantic import BaseModel, Field

from callisto_backup import BackupError, Manifest, Targets, take
from callisto_backup.archive import read_manifest
from callisto_core_bus import __version__
from callisto_core_bus.errors import BackupFailed, BackupRunning, BackupsOff, UnknownBackup
from callisto_core_bus.settings import CoreBusSettings
from callisto_runtime import Service

log = logging.getLogger(__name__)
NAME = re.compile(r"^callisto-\d{8}T\d{6}Z(-\d+)?\.backup$")


class BackupSummary(BaseModel):
    name: str = Field(description="the file's name in BACKUP_DIR")
    created_at: datetime
    bytes: int
    by: str = Field(description="who asked: a person's subject, or schedule")
    parts: dict[str, dict[str, int]] = Field(description="each part's counts: rows, messages, keys")
    left_out: dict[str, str]


def summary_of(path: Path, manifest: Manifest, by: str) -> BackupSummary:
    return BackupSummary(
        name=path.name, created_at=manifest.created_at, bytes=path.stat().st_size, by=by,
        parts={part.name: part.counts for part in manifest.parts}, left_out=manifest.left_out,
    )  # fmt: skip


class Backups:
    def __init__(self, service: Service, settings: CoreBusSettings, registry: CollectorRegistry) -> None:
        self.service = service
        self.settings = settings
        self._lock = asyncio.Lock()
        self._taken = Counter(
            "callisto_core_bus_backups", "Backups taken by this instance, by outcome.", ["outcome"],
            registry=registry,
        )  # fmt: skip
        self.last_success = Gauge(
            "callisto_core_bus_backup_last_success_timestamp_seconds",
            "When this instance last took a whole backup (0: never).", registry=registry,
        )  # fmt: skip

    @property
    def folder(self) -> Path:
        return self._set_up()[0]

    def _set_up(self) -> tuple[Path, Targets]:
        """Where backups go and what they read, or BackupsOff when the settings do not say."""
        settings = self.settings
        folder, redis_url = settings.backup_dir, settings.backup_redis_url
        database = settings.backup_database_url
        if folder is None or database is None or not redis_url:
            raise BackupsOff("backups are not set up: BACKUP_DIR, BACKUP_DATABASE_URL and BACKUP_REDIS_URL")
        password = settings.nats_password.get_secret_value() if settings.nats_password else None
        user = self.service.name if password else None
        return folder, Targets(settings.nats_url, redis_url, database.get_secret_value(), user, password)

    async def take(self, by: str) -> BackupSummary:
        folder, targets = self._set_up()
        if self._lock.locked():
            raise BackupRunning("a backup is being taken; one at a time")
        async with self._lock:
            stamp = f"callisto-{datetime.now(UTC):%Y%m%dT%H%M%SZ}"
            path = folder / f"{stamp}.backup"
            for n in range(1, 100):
                if not path.exists():
                    break
                path = folder / f"{stamp}-{n}.backup"
            started = time.monotonic()
            try:
                manifest = await take(targets, path, __version__)
            except (BackupError, OSError) as exc:
                self._taken.labels("failed").inc()
                log.error("backup asked by %s failed: %s", by, exc)
                raise BackupFailed(f"the backup failed: {exc}") from exc
            self._taken.labels("taken").inc()
            self.last_success.set(time.time())
            log.info("backup %s taken for %s in %.1f s", path.name, by, time.monotonic() - started)
            return summary_of(path, manifest, by)

    def listed(self) -> list[BackupSummary]:
        found: list[BackupSummary] = []
        for path in self._kept():
            try:
                found.append(summary_of(path, read_manifest(path), "-"))
            except BackupError as exc:
                log.warning("%s is not a readable backup: %s", path, exc)
        return found

    def _kept(self) -> list[Path]:
        """The backups in the folder, newest first (by when they were written)."""
        found = [p for p in self.folder.glob("callisto-*.backup") if NAME.match(p.name)]
        return sorted(found, key=lambda p: p.stat().st_mtime_ns, reverse=True)

    def path(self, name: str) -> Path:
        path = self.folder / name
        if not NAME.match(name) or not path.is_file():
            raise UnknownBackup(f"no backup {name!r}", {"name": name})
        return path

    async def scheduled(self) -> None:
        """The schedule's turn: the active instance takes one and keeps the newest BACKUP_KEEP."""
        if not self.service.is_active or self._lock.locked():
            return
        try:
            await self.take("schedule")
        except BackupFailed:
            return  # logged and counted; the next turn tries again
        for old in self._kept()[self.settings.backup_keep :]:
            old.unlink(missing_ok=True)
            log.info("backup %s removed (BACKUP_KEEP %d)", old.name, self.settings.backup_keep)

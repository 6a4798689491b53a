"""recording: wiring of the service. Calls' ends come from call-manager's events (a durable
consumer); conversions are jobs in PostgreSQL taken by whichever instance is free (several may
run); the converted files are served from the store directory."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path

from fastapi import FastAPI

from callisto_recording import __version__
from callisto_recording.api import recordings
from callisto_recording.conversions import Conversions
from callisto_recording.disk_guard import DiskGuard, Thresholds
from callisto_recording.handlers import call_consumer
from callisto_recording.links import LinkSigner
from callisto_recording.notifier import Notifier
from callisto_recording.retention import Retention, class_of
from callisto_recording.settings import RecordingSettings
from callisto_recording.store import RecordingStore
from callisto_recording.sweeper import Sweeper
from callisto_recording.vault import vaults
from callisto_runtime import Service
from callisto_runtime.database import Database
from callisto_runtime.periodic import periodic

MIGRATIONS = Path(__file__).with_name("migrations")


def build(settings: RecordingSettings | None = None) -> tuple[Service, Conversions, FastAPI]:
    settings = settings or RecordingSettings()
    service = Service("recording", __version__, settings)
    database = Database(settings.database_url, "recording", MIGRATIONS)
    store = RecordingStore(database)
    notifier = Notifier(service.bus, service.http_url, service.metrics_registry, service.instance)
    kept_in = vaults(settings)
    guard = DiskGuard(
        settings.capture_dir, settings.store_dir if settings.storage == "local" else settings.work_dir,
        Thresholds(settings.disk_low_free, settings.disk_defer_free, settings.disk_refuse_free),
        notifier.storage, service.metrics_registry,
    )  # fmt: skip
    conversions = Conversions(
        store, settings.capture_dir, kept_in["store"], workers=settings.workers,
        open_grace_s=settings.open_grace_s, stored=notifier.stored, quarantined=notifier.quarantined,
        class_of=partial(class_of, settings.retention), deferring=lambda: guard.deferring,
        lease=timedelta(seconds=settings.job_lease_s), complexity=settings.opus_complexity,
    )  # fmt: skip
    retention = Retention(
        store, settings.retention, kept_in, timedelta(seconds=settings.purge_grace_s),
    )  # fmt: skip
    sweeper = Sweeper(
        store, settings.capture_dir, settings.work_dir, timedelta(seconds=settings.orphan_grace_s),
        notifier.quarantined,
    )  # fmt: skip
    calls = call_consumer(service.bus, store, timedelta(seconds=settings.settle_s))
    tasks: list[asyncio.Task[None]] = []
    service.add_check("postgres", database.healthy)

    async def convert_due() -> None:
        while await conversions.tick():
            pass

    async def keep_retention() -> None:
        await retention.run(datetime.now(UTC))
        await retention.announce(notifier.deleted)

    async def sweep() -> None:
        await sweeper.sweep()

    async def check_disks() -> None:
        await guard.check()

    async def announce() -> None:  # deletions made by the command's runs are told within seconds
        await retention.announce(notifier.deleted)

    async def prepare() -> None:
        await database.wait_ready()
        calls.start()
        await guard.check()
        tasks.append(periodic(settings.disk_check_s, check_disks, "recording-disk-guard"))
        tasks.append(periodic(settings.poll_s, convert_due, "recording-conversions"))
        tasks.append(periodic(settings.retention_every_s, keep_retention, "recording-retention"))
        tasks.append(periodic(5.0, announce, "recording-deletions"))
        tasks.append(periodic(settings.sweep_every_s, sweep, "recording-sweeper"))

    @service.on_startup
    async def startup() -> None:
        for folder in (settings.store_dir, settings.work_dir):
            folder.mkdir(parents=True, exist_ok=True)
        database.start()
        service.background("recording-prepare", prepare)

    @service.on_shutdown
    async def shutdown() -> None:
        for task in tasks:
            task.cancel()
        await calls.stop()
        conversions.close()
        await database.close()

    service.include_router(recordings.router(service, store, retention, LinkSigner(database), notifier))
    return service, conversions, service.create_app()

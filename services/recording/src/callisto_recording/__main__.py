"""python -m callisto_recording: the service.

python -m callisto_recording retention [--dry-run]: one archive-and-delete run now (settings from
the same CALLISTO_RECORDING_… variables), its report as JSON; with --dry-run what it would do,
touching nothing. The service tells of the deletions on the bus within seconds."""

from __future__ import annotations

import argparse
import asyncio
import json
from datetime import UTC, datetime, timedelta

from callisto_recording.app import MIGRATIONS, build
from callisto_recording.retention import Report, Retention
from callisto_recording.settings import RecordingSettings
from callisto_recording.store import RecordingStore
from callisto_recording.vault import vaults
from callisto_runtime import run
from callisto_runtime.database import Database


async def retention_run(settings: RecordingSettings, dry_run: bool) -> Report:
    database = Database(settings.database_url, "recording", MIGRATIONS)
    database.start()
    try:
        await database.wait_ready(timeout=30)
        retention = Retention(
            RecordingStore(database), settings.retention, vaults(settings),
            timedelta(seconds=settings.purge_grace_s),
        )  # fmt: skip
        return await retention.run(datetime.now(UTC), dry_run=dry_run)
    finally:
        await database.close()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m callisto_recording")
    commands = parser.add_subparsers(dest="command")
    once = commands.add_parser("retention", help="one archive-and-delete run, its report as JSON")
    once.add_argument("--dry-run", action="store_true", help="say what it would do, touch nothing")
    arguments = parser.parse_args()
    if arguments.command == "retention":
        report = asyncio.run(retention_run(RecordingSettings(), arguments.dry_run))
        print(json.dumps(report.as_dict(), indent=2))
        return
    service, _, app = build()
    run(service, app)


if __name__ == "__main__":
    main()

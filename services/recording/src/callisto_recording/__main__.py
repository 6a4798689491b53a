"""python -m callisto_recording: the service.

python -m callisto_recording retention [--dry-run]: one archive-and-delete run now (settings from
the same CALLISTO_RECORDING_… variables), its report as JSON; with --dry-run what it would do,
touching nothing. The service tells of the deletions on the bus within seconds.

python -m callisto_recording rekey: every sealed recording's data key wrapped by the current master
key (MASTER_KEY_ID), after a new key was added to MASTER_KEYS; the audio is not encrypted again."""

from __future__ import annotations

import argparse
import asyncio
import json
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import TypeVar

from callisto_recording.app import MIGRATIONS, build
from callisto_recording.rekeying import rekey
from callisto_recording.retention import Report, Retention
from callisto_recording.sealing import MasterKeys
from callisto_recording.settings import RecordingSettings
from callisto_recording.store import RecordingStore
from callisto_recording.vault import vaults
from callisto_runtime import run
from callisto_runtime.database import Database

T = TypeVar("T")


async def with_store(settings: RecordingSettings, work: Callable[[RecordingStore], Awaitable[T]]) -> T:
    database = Database(settings.database_url, "recording", MIGRATIONS)
    database.start()
    try:
        await database.wait_ready(timeout=30)
        return await work(RecordingStore(database))
    finally:
        await database.close()


async def retention_run(settings: RecordingSettings, dry_run: bool) -> Report:
    async def run_once(store: RecordingStore) -> Report:
        retention = Retention(
            store, settings.retention, vaults(settings), timedelta(seconds=settings.purge_grace_s)
        )
        return await retention.run(datetime.now(UTC), dry_run=dry_run)

    return await with_store(settings, run_once)


async def rekey_run(settings: RecordingSettings) -> int:
    if settings.master_key_id is None:
        raise SystemExit("no MASTER_KEY_ID: recordings are not sealed")
    keys = MasterKeys(settings.master_key_bytes(), settings.master_key_id)
    return await with_store(settings, lambda store: rekey(store, keys))


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m callisto_recording")
    commands = parser.add_subparsers(dest="command")
    once = commands.add_parser("retention", help="one archive-and-delete run, its report as JSON")
    once.add_argument("--dry-run", action="store_true", help="say what it would do, touch nothing")
    commands.add_parser("rekey", help="wrap every data key by the current master key")
    arguments = parser.parse_args()
    if arguments.command == "rekey":
        print(json.dumps({"rewrapped": asyncio.run(rekey_run(RecordingSettings()))}))
        return
    if arguments.command == "retention":
        report = asyncio.run(retention_run(RecordingSettings(), arguments.dry_run))
        print(json.dumps(report.as_dict(), indent=2))
        return
    service, _, app = build()
    run(service, app)


if __name__ == "__main__":
    main()

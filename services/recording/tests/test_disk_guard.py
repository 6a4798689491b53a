"""The disk guard: levels from free space (pure), and the service on real NATS and PostgreSQL with
thresholds above the machine's free space: it says it refuses new recordings (an event with the
reason, a metric), and a call's conversion waits with its capture in the spool until there is room."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from recording_testing import Seen, captured, ended, local_settings

from callisto_devkit.publishers import Publishers
from callisto_devkit.pytest_plugin import serve_in_process
from callisto_devkit.servers import NatsServer
from callisto_protocol import new_id
from callisto_protocol.recordings import RecordingStorageChanged, StorageLevel
from callisto_recording.app import build
from callisto_recording.disk_guard import Thresholds
from callisto_runtime.database import Database


@pytest.mark.unit
def test_levels_from_free_space() -> None:
    thresholds = Thresholds(low=0.15, defer=0.10, refuse=0.05)
    assert [thresholds.level(f) for f in (0.5, 0.15, 0.12, 0.08, 0.049, 0.0)] == [
        StorageLevel.OK, StorageLevel.OK, StorageLevel.LOW, StorageLevel.DEFERRING, StorageLevel.REFUSING,
        StorageLevel.REFUSING,
    ]  # fmt: skip


@pytest.mark.integration
async def test_no_room_refuses_new_recordings_and_conversions_wait_with_the_capture_kept(
    private_nats: NatsServer, postgres_database: str, tmp_path: Path
) -> None:
    settings = local_settings(
        private_nats.url, postgres_database, tmp_path,
        disk_low_free=1.0, disk_defer_free=1.0, disk_refuse_free=1.0,  # any disk is too full
    )  # fmt: skip
    capture = settings.capture_dir
    service, conversions, app = build(settings)
    seen = Seen()

    await service.bus.subscribe(RecordingStorageChanged, seen.keep)
    call_id = new_id()
    publishers = Publishers(private_nats.url)
    database = Database(postgres_database, "recording")
    async with serve_in_process(app, settings.http_port) as base, httpx.AsyncClient(base_url=base) as http:

        async def told() -> RecordingStorageChanged:
            while not seen:
                await asyncio.sleep(0.1)
            return seen[0]

        said = await asyncio.wait_for(told(), 30)
        assert said.level is StorageLevel.REFUSING and said.instance == service.instance
        assert "the capture spool has" in said.reason and "the store has" in said.reason
        metrics = (await http.get("/metrics")).text
        assert "callisto_recording_storage_level 3.0" in metrics
        assert 'callisto_recording_free_ratio{dir="store"}' in metrics

        captured(capture, call_id, datetime.now(UTC))
        for changed in ended(call_id, "general", datetime.now(UTC)):
            await publishers.publish(changed)
        database.start()
        await database.wait_ready(timeout=10)

        async def job_made() -> bool:
            return bool(await database.pool.fetchval("SELECT count(*) FROM jobs WHERE call_id = $1", call_id))

        while not await job_made():
            await asyncio.sleep(0.1)
        assert await conversions.tick() is False  # the store has no room: nothing is taken
        job = await database.pool.fetchrow("SELECT state, attempts FROM jobs WHERE call_id = $1", call_id)
        assert (job["state"], job["attempts"]) == ("pending", 0)
        assert list((capture / "pcaps").glob(f"{call_id}-*.pcap"))  # the capture waits in the spool
        await database.close()
    await publishers.close()

"""The service killed mid-conversion (SIGKILL to it and its worker process, on real NATS and
PostgreSQL): started again, it takes the job again once the lease runs out and stores exactly one
file; the capture goes only then."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry
from recording_testing import Seen, captured, ended

from callisto_devkit.processes import ManagedProcess, free_port
from callisto_devkit.publishers import Publishers
from callisto_devkit.servers import NatsServer
from callisto_protocol import new_id
from callisto_protocol.recordings import RecordingAvailable
from callisto_runtime import Bus
from callisto_runtime.database import Database
from callisto_runtime.metrics import BusMetrics

pytestmark = [pytest.mark.integration, pytest.mark.fault]


def log_of(process: ManagedProcess) -> str:
    return Path(process.log_path).read_text()[-2000:]


async def test_killed_mid_conversion_the_call_is_stored_once_after_the_restart(
    private_nats: NatsServer, postgres_database: str, tmp_path: Path
) -> None:
    capture, work, store = tmp_path / "capture", tmp_path / "work", tmp_path / "store"
    for folder in ("pcaps", "metadata"):
        (capture / folder).mkdir(parents=True)
    env = {
        **os.environ, "CALLISTO_RECORDING_NATS_URL": private_nats.url,
        "CALLISTO_RECORDING_MODE": "development",
        "CALLISTO_RECORDING_DATABASE_URL": postgres_database, "CALLISTO_RECORDING_CAPTURE_DIR": str(capture),
        "CALLISTO_RECORDING_STORE_DIR": str(store), "CALLISTO_RECORDING_WORK_DIR": str(work),
        "CALLISTO_RECORDING_SETTLE_S": "0", "CALLISTO_RECORDING_POLL_S": "0.1",
        "CALLISTO_RECORDING_JOB_LEASE_S": "3",
    }  # fmt: skip

    def start(n: int) -> ManagedProcess:
        env["CALLISTO_RECORDING_HTTP_PORT"] = str(free_port())
        return ManagedProcess.spawn(
            f"recording-{n}",
            [sys.executable, "-m", "callisto_recording"],
            tmp_path / f"recording-{n}.log",
            env=env,
        )

    seen = Seen()

    watcher = Bus("watcher", "test-watcher", BusMetrics(CollectorRegistry()))
    await watcher.subscribe(RecordingAvailable, seen.keep)
    await watcher.start(private_nats.url)
    await watcher.wait_connected(10)
    publishers = Publishers(private_nats.url)
    call_id = new_id()
    started = datetime.now(UTC)
    captured(capture, call_id, started, seconds=1800)  # half an hour: seconds of conversion
    partial = work / f".{call_id}.ogg.partial"
    first = start(1)
    try:
        for changed in ended(call_id, "general", started):
            await publishers.publish(changed)

        async def converting() -> None:
            while not (partial.exists() and partial.stat().st_size > 0):
                assert first.alive(), log_of(first)
                await asyncio.sleep(0.02)

        await asyncio.wait_for(converting(), 60)
        os.killpg(first.pid, signal.SIGKILL)  # the service and its worker, mid-file
        first.stop()
        assert not seen and list((capture / "pcaps").glob(f"{call_id}-*"))  # nothing stored, nothing lost

        second = start(2)
        try:

            async def available() -> None:
                while not seen:
                    assert second.alive(), log_of(second)
                    await asyncio.sleep(0.1)

            await asyncio.wait_for(available(), 90)
        finally:
            second.stop()
    finally:
        first.stop()
        await publishers.close()
        await watcher.close()
    assert [e.call_id for e in seen] == [call_id]
    assert seen[0].duration_s == pytest.approx(1800, rel=0.01)
    assert [p.name for p in store.rglob("*.ogg")] == [f"{call_id}.ogg"]
    assert not partial.exists() and not list((capture / "pcaps").glob(f"{call_id}-*"))
    database = Database(postgres_database, "recording")
    database.start()
    await database.wait_ready(timeout=10)
    try:
        job = await database.pool.fetchrow("SELECT state, attempts FROM jobs WHERE call_id = $1", call_id)
        rows = await database.pool.fetchval("SELECT count(*) FROM recordings WHERE call_id = $1", call_id)
    finally:
        await database.close()
    assert (job["state"], job["attempts"], rows) == ("done", 2, 1)

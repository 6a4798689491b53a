"""The sweeper on real NATS and PostgreSQL: captures nobody converts are found once past the grace
(their files' times set in the past): one whose end never came is adopted and converted, one whose
metadata rtpengine left in ``tmp/`` too; files left after a stored recording are removed; pcaps
without metadata are quarantined with an event; a long-paused live call is left alone; a scratch
file a crash left in the work directory goes."""

from __future__ import annotations

import asyncio
import os
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from recording_testing import Seen, captured, ended, local_settings

from callisto_devkit.publishers import Publishers
from callisto_devkit.pytest_plugin import serve_in_process
from callisto_devkit.servers import NatsServer
from callisto_protocol import new_id
from callisto_protocol.recordings import RecordingAvailable, RecordingQuarantined
from callisto_recording.app import build

pytestmark = pytest.mark.integration


def aged(folder: Path, call_id: str, seconds: float = 600) -> None:
    """The call's capture files untouched for ``seconds``."""
    past = time.time() - seconds
    for path in folder.rglob(f"*{call_id}*"):
        os.utime(path, (past, past))


async def test_the_sweeper_adopts_removes_and_quarantines_what_is_left(
    private_nats: NatsServer, postgres_database: str, tmp_path: Path
) -> None:
    settings = local_settings(
        private_nats.url, postgres_database, tmp_path, orphan_grace_s=60, sweep_every_s=0.2, open_grace_s=1,
    )  # fmt: skip
    capture = settings.capture_dir
    service, _, app = build(settings)
    seen = Seen()

    await service.bus.subscribe(RecordingAvailable, seen.keep)
    await service.bus.subscribe(RecordingQuarantined, seen.keep)
    calls = {name: new_id() for name in ("stored", "untold", "left-in-tmp", "no-metadata", "paused")}
    publishers = Publishers(private_nats.url)
    now = datetime.now(UTC)

    def told(kind: type, call_id: str) -> bool:
        return any(isinstance(e, kind) and e.call_id == call_id for e in seen)

    async def until(kind: type, *call_ids: str) -> None:
        while not all(told(kind, call_id) for call_id in call_ids):
            await asyncio.sleep(0.1)

    async with serve_in_process(app, settings.http_port):
        # a recording stored, then its capture found again (as after a crash before the deletion)
        captured(capture, calls["stored"], now)
        for changed in ended(calls["stored"], "general", now):
            await publishers.publish(changed)
        await asyncio.wait_for(until(RecordingAvailable, calls["stored"]), 30)
        captured(capture, calls["stored"], now)
        aged(capture, calls["stored"])

        captured(capture, calls["untold"], now)  # the end never reached the service
        captured(capture, calls["left-in-tmp"], now)  # rtpengine stopped before the segment ended
        meta = capture / "metadata" / f"rtpengine-meta-{calls['left-in-tmp']}-0000.txt"
        meta.replace(capture / "tmp" / meta.name)
        captured(capture, calls["no-metadata"], now)  # its metadata lost: whose leg is whose?
        (capture / "metadata" / f"rtpengine-meta-{calls['no-metadata']}-0000.txt").unlink()
        await publishers.publish(ended(calls["no-metadata"], "general", now)[1])
        captured(capture, calls["paused"], now)  # answered an hour ago, paused since
        await publishers.publish(ended(calls["paused"], "general", now)[0])
        for name in ("untold", "left-in-tmp", "no-metadata", "paused"):
            aged(capture, calls[name])
        scratch = settings.work_dir / f".{new_id()}.sealed"  # a crash while sealing
        scratch.write_bytes(b"CLSTREC1")
        aged(settings.work_dir, scratch.name)

        await asyncio.wait_for(until(RecordingAvailable, calls["untold"], calls["left-in-tmp"]), 30)
        await asyncio.wait_for(until(RecordingQuarantined, calls["no-metadata"]), 30)
        (reason,) = [e.reason for e in seen if isinstance(e, RecordingQuarantined)]
        assert "without metadata" in reason
        assert (capture / "quarantine" / calls["no-metadata"] / "reason.txt").exists()

        async def swept() -> None:
            while list(capture.rglob(f"pcaps/*{calls['stored']}*")):
                await asyncio.sleep(0.1)

        await asyncio.wait_for(swept(), 30)  # the stored call's leftovers removed
        assert [e.call_id for e in seen if isinstance(e, RecordingAvailable)].count(calls["stored"]) == 1
        assert list(capture.rglob(f"pcaps/*{calls['paused']}*"))  # the live call's capture stays
        assert not told(RecordingAvailable, calls["paused"])
        assert not scratch.exists()
    await publishers.close()

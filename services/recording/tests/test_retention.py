"""Retention, legal hold and the archive, on real NATS and PostgreSQL: four calls recorded (captures
written as rtpengine writes them) at different ages and queues; a hold set on one past its
retention, a deletion of it refused; the command's dry run reports what it would do and touches
nothing; a run archives the emergencies call (still served, from the archive), marks the expired
one (still there during the grace), then purges it (its file gone, 410, a tombstone told as
``RecordingDeleted``) while the held one stays; a released hold lets retention take it; every hold
and deletion asked for is audited."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from recording_testing import Seen, captured, ended, local_settings, until_ready

from callisto_devkit.issuer import TestIssuer
from callisto_devkit.publishers import Publishers
from callisto_devkit.pytest_plugin import serve_in_process
from callisto_devkit.servers import NatsServer
from callisto_protocol import new_id
from callisto_protocol.recordings import RecordingAvailable, RecordingDeleted, RecordingHeld
from callisto_recording.app import build
from callisto_recording.retention import Retention, RetentionClass
from callisto_recording.store import RecordingStore
from callisto_recording.vault import vaults
from callisto_runtime.database import Database

pytestmark = pytest.mark.integration
CLASSES = {
    "default": RetentionClass(days=30),
    "emergencies": RetentionClass(days=1825, archive_after_days=90, queues=["emergencies"]),
}
CLASSES_JSON = json.dumps({name: kept.model_dump(mode="json") for name, kept in CLASSES.items()})


async def test_retention_marks_purges_archives_and_a_legal_hold_keeps(
    private_nats: NatsServer, postgres_database: str, token_issuer: TestIssuer, tmp_path: Path
) -> None:
    settings = local_settings(
        private_nats.url, postgres_database, tmp_path,
        archive_dir=tmp_path / "archive", retention=CLASSES, purge_grace_s=3600,
    )  # fmt: skip
    capture = settings.capture_dir
    service, _, app = build(settings)
    seen = Seen()

    now = datetime.now(UTC)
    ages = {"expired": (400, "general"), "held": (400, "general"), "emergency": (200, "emergencies"),
            "fresh": (1, "general")}  # fmt: skip
    calls = {name: new_id() for name in ages}
    publishers = Publishers(private_nats.url)
    async with serve_in_process(app, settings.http_port) as base, httpx.AsyncClient(base_url=base) as http:
        await until_ready(http)
        for kind in (RecordingAvailable, RecordingDeleted, RecordingHeld):
            await service.bus.subscribe(kind, seen.keep)
        for name, (days, queue_id) in ages.items():
            started = now - timedelta(days=days)
            captured(capture, calls[name], started)
            for changed in ended(calls[name], queue_id, started):
                await publishers.publish(changed)

        async def available() -> dict[str, str]:
            while (
                len(ids := {e.call_id: e.recording_id for e in seen if isinstance(e, RecordingAvailable)}) < 4
            ):
                await asyncio.sleep(0.1)
            return ids

        by_call = await asyncio.wait_for(available(), 30)
        ids = {name: by_call[call_id] for name, call_id in calls.items()}
        quality = token_issuer.bearer("recording.#", subject="quality1")
        boss = token_issuer.bearer("recording.read", "recording.listen", subject="supervisor1")

        def one(name: str) -> str:
            return f"/api/v1/recordings/{ids[name]}"

        got = (await http.get(one("emergency"), headers=boss)).json()
        assert (got["retention_class"], got["tier"], got["held"]) == ("emergencies", "store", False)

        # a legal hold on a recording past its retention; its deletion refused while held
        refused = await http.post(
            f"{one('held')}/hold", json={"held": True, "reason": "case 118"}, headers=boss
        )
        assert refused.status_code == 403  # a supervisor may listen, not hold
        held = await http.post(
            f"{one('held')}/hold", json={"held": True, "reason": "case 118"}, headers=quality
        )
        assert held.status_code == 200 and held.json()["held"] is True
        erase = await http.post(
            f"{one('held')}/deletion", json={"reason": "erasure request"}, headers=quality
        )
        assert erase.status_code == 409 and erase.json()["error_id"] == "recording-on-hold"

        # the command's dry run: what it would do, nothing touched
        env = {
            **os.environ, "CALLISTO_RECORDING_DATABASE_URL": postgres_database,
            "CALLISTO_RECORDING_STORE_DIR": str(settings.store_dir),
            "CALLISTO_RECORDING_ARCHIVE_DIR": str(settings.archive_dir),
            "CALLISTO_RECORDING_RETENTION": CLASSES_JSON,
        }  # fmt: skip
        dry = await asyncio.to_thread(
            subprocess.run, [sys.executable, "-m", "callisto_recording", "retention", "--dry-run"],
            env=env, capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert dry.returncode == 0, dry.stderr
        report = json.loads(dry.stdout)
        assert report["dry_run"] is True
        default, emergencies = report["classes"]["default"], report["classes"]["emergencies"]
        assert (default["to_mark"], default["held_past_retention"], default["to_purge"]) == (1, 1, 0)
        assert (emergencies["to_archive"], emergencies["to_mark"]) == (1, 0)
        assert emergencies["archive_bytes"] == got["size"]
        stored = sorted(p.name for p in settings.store_dir.rglob("*.ogg"))
        assert len(stored) == 4 and not list(settings.archive_dir.rglob("*.ogg"))
        facts = [(await http.get(one(name), headers=boss)).json() for name in ids]
        assert [f["purge_after"] for f in facts] == [None] * 4

        # a run: the emergency call archived, the expired one marked (still there during the grace)
        database = Database(postgres_database, "recording")
        database.start()
        await database.wait_ready(timeout=10)
        retention = Retention(RecordingStore(database), CLASSES, vaults(settings), timedelta(hours=1))
        first = await retention.run(now)
        assert (first.classes["default"].to_mark, first.classes["default"].to_purge) == (1, 0)
        assert first.classes["emergencies"].to_archive == 1
        marked = (await http.get(one("expired"), headers=boss)).json()
        assert marked["purge_after"] is not None
        assert (await http.get(f"{one('expired')}/audio", headers=boss)).status_code == 200
        archived = (await http.get(one("emergency"), headers=boss)).json()
        assert archived["tier"] == "archive" and len(list(settings.archive_dir.rglob("*.ogg"))) == 1
        heard = await http.get(f"{one('emergency')}/audio", headers={**boss, "Range": "bytes=0-3"})
        assert heard.status_code == 206 and heard.content == b"OggS"  # served from the archive

        # past the grace: purged, a tombstone (410), told on the bus; the held one stays
        second = await retention.run(now + timedelta(hours=2))
        assert (second.classes["default"].to_purge, second.classes["default"].purge_bytes) == (
            1,
            marked["size"],
        )
        gone = await http.get(one("expired"), headers=boss)
        assert gone.status_code == 410 and gone.json()["error_id"] == "recording-gone"
        assert not list(settings.store_dir.rglob(f"{calls['expired']}*"))
        listed = (await http.get("/api/v1/recordings", headers=boss)).json()
        assert {r["call_id"] for r in listed} == {calls["held"], calls["emergency"], calls["fresh"]}

        async def told() -> RecordingDeleted:
            while not (deleted := [e for e in seen if isinstance(e, RecordingDeleted)]):
                await asyncio.sleep(0.1)
            return deleted[0]

        deleted = await asyncio.wait_for(told(), 30)  # the service tells of a deletion it did not make
        assert (deleted.recording_id, deleted.reason) == (ids["expired"], "retention: class default, 30 days")

        # the hold released: retention takes it like any other
        released = await http.post(
            f"{one('held')}/hold", json={"held": False, "reason": "case 118 closed"}, headers=quality
        )
        assert released.status_code == 200
        third = await retention.run(now + timedelta(hours=3))
        assert third.classes["default"].to_mark == 1
        assert [(e.held, e.reason, e.by) for e in seen if isinstance(e, RecordingHeld)] == [
            (True, "case 118", "quality1"), (False, "case 118 closed", "quality1"),
        ]  # fmt: skip
        audit = (await http.get(f"{one('held')}/holds", headers=quality)).json()
        assert [(a["action"], a["by"]) for a in audit] == [("hold", "quality1"), ("release", "quality1")]

        # an erasure asked for: marked now, purged after the grace
        erased = await http.post(
            f"{one('fresh')}/deletion", json={"reason": "erasure request"}, headers=quality
        )
        assert erased.status_code == 202 and erased.json()["purge_after"] is not None
        await retention.run(datetime.now(UTC) + timedelta(hours=2))
        assert (await http.get(one("fresh"), headers=boss)).status_code == 410
        await database.close()
    await publishers.close()

"""Recordings in S3-compatible object storage (moto's threaded server: a real HTTP S3 endpoint),
sealed at rest, on real NATS and PostgreSQL: a call's recording lands in the bucket sealed (no Ogg
header readable there) with server-side encryption asked for; its audio is served by ranges that
cross the seal's chunks (the same bytes as the whole), 416 and If-Range; a WAV rendition is sealed
too; a legal hold holds the object (object lock) so that even the bucket refuses its deletion;
a master key rotation rewraps the data key without touching the object, and a service holding only
the new key serves the audio; an erasure the bucket refuses (its own hold) waits and goes later.
Plus the seal itself: a changed byte or a cut file does not open."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import httpx
import numpy as np
import pytest
from botocore.exceptions import ClientError
from moto.server import ThreadedMotoServer
from recording_testing import Seen, captured, ended, loudest_hz

from callisto_devkit.issuer import TestIssuer
from callisto_devkit.processes import free_port
from callisto_devkit.publishers import Publishers
from callisto_devkit.pytest_plugin import serve_in_process
from callisto_devkit.servers import NatsServer
from callisto_protocol import new_id
from callisto_protocol.recordings import RecordingAvailable
from callisto_recording.app import build
from callisto_recording.encode import blocks_of
from callisto_recording.errors import SealBroken
from callisto_recording.retention import DEFAULT_CLASSES, Retention
from callisto_recording.sealing import CHUNK, MasterKeys, seal, unseal
from callisto_recording.settings import RecordingSettings
from callisto_recording.store import RecordingStore
from callisto_recording.vault import vaults
from callisto_runtime import Mode
from callisto_runtime.database import Database

RATE = 8000
KEY_1, KEY_2 = (base64.b64encode(os.urandom(32)).decode() for _ in range(2))
CREDENTIALS = {"aws_access_key_id": "callisto", "aws_secret_access_key": "callisto-secret"}


@pytest.fixture
def s3_endpoint() -> Iterator[str]:
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


@pytest.mark.unit
def test_a_seal_opens_whole_and_refuses_a_changed_byte_or_a_cut(tmp_path: Path) -> None:
    keys = MasterKeys({"k1": base64.b64decode(KEY_1)}, "k1")
    data_key = keys.new_data_key()
    plain = tmp_path / "plain"
    plain.write_bytes(os.urandom(CHUNK * 2 + 100))
    sealed, opened = tmp_path / "sealed", tmp_path / "opened"
    seal(plain, sealed, data_key.key)
    unseal(sealed, opened, keys.unwrap(data_key.key_id, data_key.wrapped))
    assert opened.read_bytes() == plain.read_bytes()
    raw = bytearray(sealed.read_bytes())
    raw[CHUNK + 500] ^= 1
    sealed.write_bytes(bytes(raw))
    with pytest.raises(SealBroken):
        unseal(sealed, opened, data_key.key)
    seal(plain, sealed, data_key.key)
    sealed.write_bytes(sealed.read_bytes()[: -(100 + 16)])  # the last chunk gone: the one before is not last
    with pytest.raises(SealBroken):
        unseal(sealed, opened, data_key.key)
    with pytest.raises(SealBroken):
        MasterKeys({"k2": base64.b64decode(KEY_2)}, "k2").unwrap("k1", data_key.wrapped)


@pytest.mark.integration
async def test_recordings_in_object_storage_sealed_served_by_range_held_and_rekeyed(
    private_nats: NatsServer,
    postgres_database: str,
    token_issuer: TestIssuer,
    s3_endpoint: str,
    tmp_path: Path,
) -> None:
    s3 = boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1", **CREDENTIALS)
    s3.create_bucket(Bucket="recordings", ObjectLockEnabledForBucket=True)
    capture = tmp_path / "capture"
    for folder in ("pcaps", "metadata"):
        (capture / folder).mkdir(parents=True)
    common: dict[str, Any] = dict(
        nats_url=private_nats.url, database_url=postgres_database, mode=Mode.DEVELOPMENT, capture_dir=capture,
        store_dir=tmp_path / "unused", work_dir=tmp_path / "work", settle_s=0, poll_s=0.1, storage="s3",
        s3_endpoint_url=s3_endpoint, s3_bucket="recordings", s3_prefix="calls/",
        s3_access_key_id=CREDENTIALS["aws_access_key_id"],
        s3_secret_access_key=CREDENTIALS["aws_secret_access_key"], s3_object_lock=True,
    )  # fmt: skip
    settings = RecordingSettings(
        http_port=free_port(), master_keys={"k1": KEY_1}, master_key_id="k1", **common
    )
    service, _, app = build(settings)
    seen = Seen()

    await service.bus.subscribe(RecordingAvailable, seen.keep)
    call_id = new_id()
    publishers = Publishers(private_nats.url)
    boss = token_issuer.bearer("recording.#", subject="quality1")
    async with serve_in_process(app, settings.http_port) as base, httpx.AsyncClient(base_url=base) as http:
        started = datetime.now(UTC)
        captured(capture, call_id, started, seconds=20)  # about 40 KB of Opus: chunks to cross
        for changed in ended(call_id, "general", started):
            await publishers.publish(changed)

        async def available() -> RecordingAvailable:
            while not seen:
                await asyncio.sleep(0.1)
            return seen[0]

        ready = await asyncio.wait_for(available(), 30)
        row = (await http.get(f"/api/v1/recordings/{ready.recording_id}", headers=boss)).json()
        day = datetime.fromisoformat(row["ended_at"]).strftime("%Y/%m/%d")
        key = f"calls/{day}/{call_id}.ogg"
        head = s3.head_object(Bucket="recordings", Key=key)
        assert head["ServerSideEncryption"] == "AES256"
        stored = s3.get_object(Bucket="recordings", Key=key)["Body"].read()
        assert stored[:8] == b"CLSTREC1" and b"OggS" not in stored[:200]  # sealed: no Ogg page readable

        audio = f"/api/v1/recordings/{ready.recording_id}/audio"
        whole = await http.get(audio, headers=boss)
        assert whole.status_code == 200 and whole.content[:4] == b"OggS"
        assert hashlib.sha256(whole.content).hexdigest() == row["sha256"]
        size = len(whole.content)
        for asked, span in ((f"bytes={size // 2 - 10}-{size // 2 + 10}", (size // 2 - 10, size // 2 + 11)),
                            ("bytes=-10", (size - 10, size)), ("bytes=100-", (100, size))):  # fmt: skip
            part = await http.get(audio, headers={**boss, "Range": asked})
            assert part.status_code == 206 and part.content == whole.content[span[0] : span[1]], asked
            assert part.headers["content-range"] == f"bytes {span[0]}-{span[1] - 1}/{size}"
        beyond = await http.get(audio, headers={**boss, "Range": f"bytes={size}-"})
        assert beyond.status_code == 416 and beyond.headers["content-range"] == f"bytes */{size}"
        stale = await http.get(audio, headers={**boss, "Range": "bytes=0-3", "If-Range": '"elsewhere"'})
        assert stale.status_code == 200 and len(stale.content) == size  # changed since: the whole
        fresh = await http.get(
            audio, headers={**boss, "Range": "bytes=0-3", "If-Range": whole.headers["etag"]}
        )
        assert fresh.status_code == 206 and fresh.content == b"OggS"
        (tmp_path / "got.ogg").write_bytes(whole.content)
        samples = np.concatenate(list(blocks_of(tmp_path / "got.ogg")))
        assert loudest_hz(samples[RATE : 2 * RATE, 0]) == pytest.approx(440, abs=10)
        assert loudest_hz(samples[RATE : 2 * RATE, 1]) == pytest.approx(1000, abs=10)

        wav = await http.get(audio, params={"format": "wav"}, headers=boss)
        assert wav.status_code == 200 and wav.content[:4] == b"RIFF"
        wav_key = key.removesuffix(".ogg") + ".wav"
        assert s3.get_object(Bucket="recordings", Key=wav_key)["Body"].read()[:8] == b"CLSTREC1"

        # a legal hold holds the object itself: the bucket refuses to delete it
        held = await http.post(
            f"/api/v1/recordings/{ready.recording_id}/hold",
            json={"held": True, "reason": "case 7"},
            headers=boss,
        )
        assert held.status_code == 200
        assert s3.get_object_legal_hold(Bucket="recordings", Key=key)["LegalHold"]["Status"] == "ON"
        version = s3.head_object(Bucket="recordings", Key=key)["VersionId"]
        with pytest.raises(ClientError):
            s3.delete_object(Bucket="recordings", Key=key, VersionId=version)
        released = await http.post(
            f"/api/v1/recordings/{ready.recording_id}/hold",
            json={"held": False, "reason": "closed"},
            headers=boss,
        )
        assert released.status_code == 200
        assert s3.get_object_legal_hold(Bucket="recordings", Key=key)["LegalHold"]["Status"] == "OFF"

    # a new master key: the command rewraps the data key, the object stays as it was
    env = {
        **os.environ, "CALLISTO_RECORDING_DATABASE_URL": postgres_database,
        "CALLISTO_RECORDING_MASTER_KEYS": f'{{"k1": "{KEY_1}", "k2": "{KEY_2}"}}',
        "CALLISTO_RECORDING_MASTER_KEY_ID": "k2",
    }  # fmt: skip
    rekeyed = await asyncio.to_thread(
        subprocess.run, [sys.executable, "-m", "callisto_recording", "rekey"], env=env, capture_output=True,
        text=True, timeout=60,
    )  # fmt: skip
    assert rekeyed.returncode == 0, rekeyed.stderr
    assert rekeyed.stdout.strip() == '{"rewrapped": 1}'
    assert s3.get_object(Bucket="recordings", Key=key)["Body"].read() == stored  # not encrypted again
    only_new = RecordingSettings(
        http_port=free_port(), master_keys={"k2": KEY_2}, master_key_id="k2", **common
    )
    service, _, app = build(only_new)
    async with serve_in_process(app, only_new.http_port) as base, httpx.AsyncClient(base_url=base) as http:
        again = await http.get(f"/api/v1/recordings/{ready.recording_id}/audio", headers=boss)
        assert again.status_code == 200 and again.content == whole.content

        # an erasure asked for while the bucket still holds the object (set there, not here): the
        # purge is refused by the storage, nothing is lost, it is tried again and goes once released
        asked = await http.post(
            f"/api/v1/recordings/{ready.recording_id}/deletion", json={"reason": "erasure"}, headers=boss
        )
        assert asked.status_code == 202
        s3.put_object_legal_hold(Bucket="recordings", Key=key, LegalHold={"Status": "ON"})
        database = Database(postgres_database, "recording")
        database.start()
        await database.wait_ready(timeout=10)
        retention = Retention(RecordingStore(database), DEFAULT_CLASSES, vaults(only_new), timedelta(days=1))
        later = datetime.now(UTC) + timedelta(days=2)
        refused = await retention.run(later)
        assert refused.classes["default"].to_purge == 0
        assert (
            await http.get(f"/api/v1/recordings/{ready.recording_id}/audio", headers=boss)
        ).status_code == 200
        s3.put_object_legal_hold(Bucket="recordings", Key=key, LegalHold={"Status": "OFF"})
        assert (await retention.run(later)).classes["default"].to_purge == 0  # not before its retry
        purged = await retention.run(later + timedelta(hours=2))
        assert purged.classes["default"].to_purge == 1
        assert (await http.get(f"/api/v1/recordings/{ready.recording_id}", headers=boss)).status_code == 410
        assert "Versions" not in s3.list_object_versions(Bucket="recordings", Prefix=key)
        await database.close()
    await publishers.close()

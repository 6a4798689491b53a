"""The conversion jobs: a call that ended is converted once its capture has settled, off the event
loop (worker processes); the file is written in the work directory, fsynced and decoded back,
then kept in the store (sealed when master keys are set; a link or a rename on the same local
filesystem, an upload to object storage), its row and the job's end committed together, and only
then are the pcaps deleted. A crash anywhere leaves the job pending (taken again when its lease runs
out) and the same name is kept again. A capture that cannot be read is quarantined with the reason;
a call without a capture (not recorded) ends the job as "nothing"."""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Awaitable, Callable
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from callisto_protocol import new_id
from callisto_recording.capture import capture_of, quarantine, remove
from callisto_recording.converter import Converted, Segment, convert
from callisto_recording.encode import OPUS_COMPLEXITY
from callisto_recording.errors import ConversionFailed, CorruptCapture, UnsupportedCodec
from callisto_recording.store import RecordingStore
from callisto_recording.vault import Vault

log = logging.getLogger(__name__)
BACKOFF_S = (5, 30, 120, 600)

Stored = Callable[[dict[str, Any]], Awaitable[None]]  # a recording stored (to publish it)
Quarantined = Callable[[str, str], Awaitable[None]]  # (call id, reason)


def _digest(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while chunk := stream.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _convert_in_worker(segments: list[Segment], out: Path, complexity: int) -> tuple[Converted, str, int]:
    converted = convert(segments, out, complexity=complexity)
    return converted, _digest(out), out.stat().st_size


class Conversions:
    def __init__(
        self, store: RecordingStore, capture_dir: Path, vault: Vault, *, workers: int, open_grace_s: float,
        stored: Stored, quarantined: Quarantined, class_of: Callable[[str | None, str], str],
        deferring: Callable[[], bool] = lambda: False, lease: timedelta = timedelta(minutes=10),
        complexity: int = OPUS_COMPLEXITY,
    ) -> None:  # fmt: skip
        self.store = store
        self.capture_dir = capture_dir
        self.vault = vault
        self.open_grace = timedelta(seconds=open_grace_s)
        self.pool = ProcessPoolExecutor(max_workers=workers)
        self.stored = stored
        self.quarantined = quarantined
        self.class_of = class_of
        self.deferring = deferring
        self.lease = lease
        self.complexity = complexity
        self.done = 0

    def close(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)

    async def tick(self) -> bool:
        """Take one due job and carry it as far as it goes; whether there was one. None is taken
        while the store has no room (the disk guard): the captures wait in the spool."""
        if self.deferring():
            return False
        now = datetime.now(UTC)
        job = await self.store.take_job(now, self.lease)
        if job is None:
            return False
        call_id, attempts, ended_at = job
        try:
            await self._run(call_id, now, ended_at)
        except ConversionFailed as exc:
            await self._quarantine(call_id, exc.message)
        except Exception as exc:  # PostgreSQL or the disk away: try again later, the capture stays
            pause = BACKOFF_S[min(attempts, len(BACKOFF_S) - 1)]
            log.warning("call %s: conversion deferred %d s: %s", call_id, pause, exc)
            await self.store.retry(call_id, now + timedelta(seconds=pause), str(exc)[:500])
        return True

    async def _run(self, call_id: str, now: datetime, ended_at: datetime | None) -> None:
        capture = await asyncio.to_thread(capture_of, self.capture_dir, call_id)
        if capture.open and (ended_at is None or now - ended_at < self.open_grace):
            await self.store.retry(call_id, now + timedelta(seconds=1), "a segment is still being written")
            return
        if not capture.segments:
            await self.store.finish(call_id, "nothing", "no capture of this call")
            return
        name = f"{(ended_at or now).strftime('%Y/%m/%d')}/{call_id}.ogg"
        await asyncio.to_thread(self.vault.work_dir.mkdir, parents=True, exist_ok=True)
        partial = self.vault.work_dir / f".{call_id}.ogg.partial"
        loop = asyncio.get_running_loop()
        try:
            converted, sha256, size = await loop.run_in_executor(
                self.pool, _convert_in_worker, capture.segments, partial, self.complexity
            )
        except (CorruptCapture, UnsupportedCodec) as exc:
            await self._quarantine(call_id, exc.message)
            return
        try:
            kept = await self.vault.keep(name, partial)
        finally:
            await asyncio.to_thread(partial.unlink, missing_ok=True)
        row = await self.store.stored(
            new_id(), call_id, name, size, sha256, len(capture.segments), converted, self.class_of, kept
        )
        await asyncio.to_thread(remove, capture)  # only now: the file and its row are safe
        self.done += 1
        log.info(
            "call %s recorded: %.1f s, %d bytes, %s", call_id, converted.decoded_s, size, converted.ratios
        )
        await self.stored(row)

    async def _quarantine(self, call_id: str, reason: str) -> None:
        capture = await asyncio.to_thread(capture_of, self.capture_dir, call_id)
        aside = await asyncio.to_thread(quarantine, self.capture_dir, call_id, capture, reason)
        await self.store.finish(call_id, "quarantined", reason)
        log.error("call %s: capture quarantined in %s: %s", call_id, aside, reason)
        await self.quarantined(call_id, reason)

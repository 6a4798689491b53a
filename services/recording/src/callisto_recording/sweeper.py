"""Captures nobody is converting, found and dealt with; nothing is left behind and nothing dropped.

Every few minutes the capture directory is read; files older than the grace belong to:
- a call without a job and not known to be under way (its end never reached this service): adopted,
  a job made due now, converted like any other;
- a call whose recording is stored (a crash between the commit and the deletion): removed;
- a call whose job found nothing to convert (pcaps without metadata: whose leg is whose is not
  known): quarantined with the reason and an event.

Metadata rtpengine left in ``tmp/`` (it stopped before the segment ended) is moved into
``metadata/`` first, so its segment is converted. Scratch files a crash left in the work directory
(partial conversions, files being sealed or fetched) go once past the grace."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

from callisto_recording.capture import capture_of, quarantine, remove
from callisto_recording.conversions import Quarantined
from callisto_recording.store import RecordingStore

log = logging.getLogger(__name__)
META_PREFIX = "rtpengine-meta-"


def call_of(path: Path) -> str:
    """The call id in a capture file's name: ``<call>-<n>.pcap``, ``rtpengine-meta-<call>-<n>.txt``."""
    return path.stem.removeprefix(META_PREFIX).rsplit("-", 1)[0]


def _settled(folder: Path, older_than: float) -> dict[str, float]:
    """Call ids with files untouched since ``older_than`` (epoch s), and their newest file's time."""
    calls: dict[str, float] = {}
    for sub, pattern in (("pcaps", "*.pcap"), ("metadata", f"{META_PREFIX}*.txt")):
        for path in (folder / sub).glob(pattern):
            try:
                changed = path.stat().st_mtime
            except FileNotFoundError:  # converted meanwhile
                continue
            call = call_of(path)
            calls[call] = max(calls.get(call, 0.0), changed)
    return {call: at for call, at in calls.items() if at < older_than}


def _adopt_left_metadata(folder: Path, older_than: float) -> int:
    moved = 0
    for meta in (folder / "tmp").glob(f"{META_PREFIX}*.txt"):
        if meta.stat().st_mtime < older_than:
            (folder / "metadata").mkdir(exist_ok=True)
            meta.replace(folder / "metadata" / meta.name)
            moved += 1
    return moved


def _clear_scratch(work_dir: Path, older_than: float) -> int:
    cleared = 0
    for path in work_dir.glob(".*"):
        try:
            if path.is_file() and path.stat().st_mtime < older_than:
                path.unlink()
                cleared += 1
        except FileNotFoundError:  # finished meanwhile
            continue
    return cleared


class Sweeper:
    def __init__(
        self, store: RecordingStore, capture_dir: Path, work_dir: Path, grace: timedelta,
        quarantined: Quarantined,
    ) -> None:  # fmt: skip
        self.store = store
        self.capture_dir = capture_dir
        self.work_dir = work_dir
        self.grace = grace
        self.quarantined = quarantined

    async def sweep(self) -> Counter[str]:
        done: Counter[str] = Counter()
        older_than = time.time() - self.grace.total_seconds()
        done["metadata_moved"] = await asyncio.to_thread(_adopt_left_metadata, self.capture_dir, older_than)
        done["scratch_cleared"] = await asyncio.to_thread(_clear_scratch, self.work_dir, older_than)
        settled = await asyncio.to_thread(_settled, self.capture_dir, older_than)
        for call_id, changed in settled.items():
            state = await self.store.job_state(call_id)
            if state == "live":  # a long pause: the call goes on
                continue
            if state is None:
                await self.store.adopt(call_id, datetime.fromtimestamp(changed, UTC))
                log.warning("call %s: a capture nobody converts, adopted", call_id)
                done["adopted"] += 1
            elif state == "done":
                capture = await asyncio.to_thread(capture_of, self.capture_dir, call_id)
                await asyncio.to_thread(remove, capture)
                done["removed"] += 1
            elif state == "nothing":
                reason = "pcaps without metadata: whose leg is whose is not known"
                capture = await asyncio.to_thread(capture_of, self.capture_dir, call_id)
                await asyncio.to_thread(quarantine, self.capture_dir, call_id, capture, reason)
                await self.store.finish(call_id, "quarantined", reason)
                await self.quarantined(call_id, reason)
                done["quarantined"] += 1
        if any(done.values()):
            log.info("capture sweep: %s", dict(done))
        return done

"""The free space of the capture spool (where rtpengine writes pcaps) and of the store, watched.

Below ``low`` a warning (event, metric); below ``defer`` conversions wait while the *store* is that
full (converting writes there; the capture stays safe in the spool); below ``refuse`` call-manager is
told to start no new recordings, and says so for every call it does not record. Never silently: each
change of level is an event (``RecordingStorageChanged``), a metric and a log line."""

from __future__ import annotations

import logging
import shutil
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from prometheus_client import CollectorRegistry, Gauge

from callisto_protocol.recordings import StorageLevel

log = logging.getLogger(__name__)
ORDER = [StorageLevel.OK, StorageLevel.LOW, StorageLevel.DEFERRING, StorageLevel.REFUSING]


@dataclass(frozen=True)
class Thresholds:
    """Free shares of a filesystem under which each level starts."""

    low: float = 0.15
    defer: float = 0.10
    refuse: float = 0.05

    def level(self, free: float) -> StorageLevel:
        if free < self.refuse:
            return StorageLevel.REFUSING
        if free < self.defer:
            return StorageLevel.DEFERRING
        if free < self.low:
            return StorageLevel.LOW
        return StorageLevel.OK


@dataclass(frozen=True)
class Reading:
    level: StorageLevel
    spool_free: float
    store_free: float
    store_level: StorageLevel
    reason: str


def free_share(folder: Path) -> float:
    """Of the filesystem the folder is (or will be) on."""
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    usage = shutil.disk_usage(folder)
    return usage.free / usage.total if usage.total else 0.0


Changed = Callable[[Reading], Awaitable[None]]


class DiskGuard:
    def __init__(
        self, spool: Path, store: Path, thresholds: Thresholds, changed: Changed, registry: CollectorRegistry
    ) -> None:
        self.spool = spool
        self.store = store
        self.thresholds = thresholds
        self.changed = changed
        self.reading: Reading | None = None
        self.free = Gauge(
            "callisto_recording_free_ratio", "Free share of the filesystem", ["dir"], registry=registry
        )
        self.level_gauge = Gauge(
            "callisto_recording_storage_level",
            "0 ok, 1 low, 2 conversions deferred, 3 new recordings refused",
            registry=registry,
        )

    @property
    def deferring(self) -> bool:
        """Conversions wait: the store has no room for their files."""
        return self.reading is not None and ORDER.index(self.reading.store_level) >= 2

    def measure(self) -> Reading:
        spool_free, store_free = free_share(self.spool), free_share(self.store)
        spool_level, store_level = self.thresholds.level(spool_free), self.thresholds.level(store_free)
        level = max(spool_level, store_level, key=ORDER.index)
        said = []
        measured = (("capture spool", spool_free, spool_level), ("store", store_free, store_level))
        for name, free, at in measured:
            if at is not StorageLevel.OK:
                said.append(f"the {name} has {free:.1%} free ({at.value})")
        return Reading(level, round(spool_free, 4), round(store_free, 4), store_level, "; ".join(said))

    async def check(self) -> Reading:
        """Measure; tell when the level changed (the first reading always)."""
        reading = self.measure()
        self.free.labels("spool").set(reading.spool_free)
        self.free.labels("store").set(reading.store_free)
        self.level_gauge.set(ORDER.index(reading.level))
        before = self.reading
        self.reading = reading
        if before is None or (before.level, before.store_level) != (reading.level, reading.store_level):
            report = log.info if reading.level is StorageLevel.OK else log.warning
            report("recording storage %s: %s", reading.level.value, reading.reason or "room enough")
            await self.changed(reading)
        return reading

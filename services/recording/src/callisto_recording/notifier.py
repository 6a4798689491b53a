"""The only place recording publishes from: a recording stored, a capture quarantined, a hold set or
released, a recording deleted, the room left to store them."""

from __future__ import annotations

from typing import Any

from prometheus_client import CollectorRegistry, Counter

from callisto_protocol.recordings import (
    RecordingAvailable,
    RecordingDeleted,
    RecordingHeld,
    RecordingQuarantined,
    RecordingStorageChanged,
)
from callisto_recording.disk_guard import Reading
from callisto_runtime import Bus


class Notifier:
    def __init__(self, bus: Bus, base_url: str, registry: CollectorRegistry, instance: str) -> None:
        self.bus = bus
        self.instance = instance
        self.base_url = base_url
        self.outcomes = Counter(
            "callisto_recording_conversions",
            "Calls converted, quarantined; recordings deleted",
            ["outcome"],
            registry=registry,
        )

    async def stored(self, row: dict[str, Any]) -> None:
        self.outcomes.labels("stored").inc()
        url = f"{self.base_url}/api/v1/recordings/{row['id']}/audio"
        await self.bus.publish(
            RecordingAvailable(
                recording_id=row["id"], call_id=row["call_id"], url=url, duration_s=row["duration_s"]
            ),
            correlation_id=row["call_id"],
        )

    async def quarantined(self, call_id: str, reason: str) -> None:
        self.outcomes.labels("quarantined").inc()
        await self.bus.publish(
            RecordingQuarantined(call_id=call_id, reason=reason[:500]), correlation_id=call_id
        )

    async def held(self, row: dict[str, Any], reason: str, by: str) -> None:
        await self.bus.publish(
            RecordingHeld(
                recording_id=row["id"], call_id=row["call_id"], held=row["held"], reason=reason[:500], by=by
            ),
            correlation_id=row["call_id"],
        )

    async def deleted(self, recording_id: str, call_id: str, reason: str) -> None:
        self.outcomes.labels("deleted").inc()
        await self.bus.publish(
            RecordingDeleted(recording_id=recording_id, call_id=call_id, reason=reason[:500]),
            correlation_id=call_id,
        )

    async def storage(self, reading: Reading) -> None:
        changed = RecordingStorageChanged(
            instance=self.instance, level=reading.level, spool_free=reading.spool_free,
            store_free=reading.store_free, reason=reading.reason[:500],
        )  # fmt: skip
        await self.bus.publish(changed)

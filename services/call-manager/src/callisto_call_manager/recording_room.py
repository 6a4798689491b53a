"""Whether the recording service has room for new recordings: its instances' latest
``RecordingStorageChanged`` (replayed from the event stream at start and after every reconnection).
While one says ``refusing``, call-manager starts no recording and says so."""

from __future__ import annotations

import logging

from callisto_protocol import Envelope
from callisto_protocol.recordings import RecordingStorageChanged, StorageLevel
from callisto_runtime import Bus

log = logging.getLogger(__name__)


class RecordingRoom:
    def __init__(self) -> None:
        self.levels: dict[str, RecordingStorageChanged] = {}

    async def follow(self, bus: Bus) -> None:
        await bus.follow(RecordingStorageChanged, self.changed)

    async def changed(self, event: RecordingStorageChanged, _: Envelope) -> None:
        if event.level is StorageLevel.REFUSING:
            log.warning("recording %s refuses new recordings: %s", event.instance, event.reason)
        self.levels[event.instance] = event

    @property
    def refusing(self) -> str | None:
        """Why new recordings are refused, or None."""
        full = [e for e in self.levels.values() if e.level is StorageLevel.REFUSING]
        return "; ".join(f"{e.instance}: {e.reason}" for e in full) or None

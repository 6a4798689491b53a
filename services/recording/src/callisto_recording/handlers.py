"""Bus side of recording: call-manager's call events through a durable consumer (shared by the
instances, so each is handled once): who answered, and the end that makes a conversion job."""

from __future__ import annotations

from datetime import timedelta

from callisto_protocol import Envelope, Event
from callisto_protocol.calls import CallStateChanged
from callisto_recording.store import RecordingStore
from callisto_runtime import Bus, DurableConsumer


def call_consumer(bus: Bus, store: RecordingStore, settle: timedelta) -> DurableConsumer:
    async def call_changed(event: Event, _: Envelope) -> None:
        if isinstance(event, CallStateChanged):
            await store.call_changed(event, settle)

    return DurableConsumer(bus, "recording-calls", CallStateChanged.subscription(), handler=call_changed)

"""Recordings: a call's recording has been stored and can be listened to (call cards and tickets
link to it)."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from callisto_protocol.ids import Token
from callisto_protocol.messages import Event


class RecordingAvailable(Event):
    message_type: ClassVar[str] = "recordings.available"
    subject: ClassVar[str] = "cc.recording.{call_id}.available"
    publisher: ClassVar[str] = "recording"
    recording_id: Token
    call_id: Token
    url: str = Field(min_length=1, max_length=2000, pattern=r"^https?://", description="where it is served")
    duration_s: float = Field(ge=0)


class RecordingQuarantined(Event):
    """A call's capture could not be converted (unreadable, a codec not decoded, a file that does not
    play back): its files are kept aside with the reason, for someone to look at."""

    message_type: ClassVar[str] = "recordings.quarantined"
    subject: ClassVar[str] = "cc.recording.{call_id}.quarantined"
    publisher: ClassVar[str] = "recording"
    call_id: Token
    reason: str = Field(min_length=1, max_length=500)

"""Recordings: a call's recording has been stored and can be listened to (call cards and tickets
link to it), held, deleted; the room left to capture and store them."""

from __future__ import annotations

from enum import StrEnum
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


class RecordingHeld(Event):
    """A legal hold set on a recording or released: a held recording outlives its retention and
    cannot be deleted until the hold is released."""

    message_type: ClassVar[str] = "recordings.held"
    subject: ClassVar[str] = "cc.recording.{call_id}.held"
    publisher: ClassVar[str] = "recording"
    recording_id: Token
    call_id: Token
    held: bool
    reason: str = Field(min_length=1, max_length=500)
    by: str = Field(min_length=1, max_length=200, description="who set or released it")


class RecordingDeleted(Event):
    """A recording's audio is gone for good (its retention ran out, or someone asked): the row stays
    as a tombstone for the audit."""

    message_type: ClassVar[str] = "recordings.deleted"
    subject: ClassVar[str] = "cc.recording.{call_id}.deleted"
    publisher: ClassVar[str] = "recording"
    recording_id: Token
    call_id: Token
    reason: str = Field(min_length=1, max_length=500)


class StorageLevel(StrEnum):
    OK = "ok"
    LOW = "low"  # warned: someone should make room
    DEFERRING = "deferring"  # conversions wait (the capture stays in the spool)
    REFUSING = "refusing"  # new recordings are refused: there is no room to capture them


class RecordingStorageChanged(Event):
    """The free space of the capture spool or the recording store crossed a threshold. call-manager
    refuses to start recordings while the level is ``refusing`` (and says so)."""

    message_type: ClassVar[str] = "recordings.storage"
    subject: ClassVar[str] = "cc.recording.storage.{instance}"
    publisher: ClassVar[str] = "recording"
    instance: Token
    level: StorageLevel
    spool_free: float = Field(ge=0, le=1, description="free share of the capture spool's filesystem")
    store_free: float = Field(ge=0, le=1, description="free share of the store's filesystem")
    reason: str = Field(default="", max_length=500)


class RecordingRefused(Event):
    """call-manager did not record a call its policy (or a person) asked to record: the recording
    store has no room (``RecordingStorageChanged`` said ``refusing``) or rtpengine refused."""

    message_type: ClassVar[str] = "recordings.refused"
    subject: ClassVar[str] = "cc.call.{call_id}.recording-refused"
    publisher: ClassVar[str] = "call-manager"
    call_id: Token
    reason: str = Field(min_length=1, max_length=500)

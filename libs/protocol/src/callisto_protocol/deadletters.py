"""Dead letters: an event a durable consumer could not handle after a bounded number of tries, kept
with the reason in the ``CC_DEAD_LETTERS`` stream so that it never blocks the events behind it and an
administrator can look at it and replay it once the cause is fixed."""

from __future__ import annotations

import base64
from datetime import datetime
from typing import ClassVar

from pydantic import Field

from callisto_protocol.ids import ServiceName, Token
from callisto_protocol.messages import Event


class DeadLetter(Event):
    message_type: ClassVar[str] = "dead-letter"
    subject: ClassVar[str] = "cc.dead.{service}.{consumer}"
    publisher: ClassVar[str] = "{service}"
    service: ServiceName
    consumer: Token = Field(description="the durable consumer that gave up")
    original_subject: str = Field(max_length=512)
    original_type: str = Field(default="", max_length=128, description="from the envelope; '' when absent")
    message_id: str = Field(default="", max_length=64)
    stream_sequence: int = Field(ge=0, description="the event's sequence in CC_EVENTS")
    reason: str = Field(max_length=2000, description="why it was given up: the last error")
    cause: str = Field(pattern=r"^(malformed|failed|wrong-origin)$")
    deliveries: int = Field(ge=1)
    failed_at: datetime
    headers: dict[str, str] = Field(default={}, description="the envelope, without the access token")
    body_b64: str = Field(description="the body as received, base64")

    def body(self) -> bytes:
        return base64.b64decode(self.body_b64)

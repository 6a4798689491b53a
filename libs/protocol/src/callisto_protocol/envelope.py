"""The envelope: facts about a message carried in NATS headers, beside the JSON body."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from callisto_protocol.errors import EnvelopeError
from callisto_protocol.ids import MessageId, new_id

MESSAGE_ID = "Cc-Message-Id"
MESSAGE_TYPE = "Cc-Message-Type"
ORIGIN_SERVICE = "Cc-Origin-Service"
ORIGIN_INSTANCE = "Cc-Origin-Instance"
TIMESTAMP = "Cc-Timestamp"
CORRELATION_ID = "Cc-Correlation-Id"
# JetStream drops a second message with the same id inside its duplicate window.
NATS_MSG_ID = "Nats-Msg-Id"

_FIELDS = {
    "message_id": MESSAGE_ID,
    "message_type": MESSAGE_TYPE,
    "origin_service": ORIGIN_SERVICE,
    "origin_instance": ORIGIN_INSTANCE,
    "timestamp": TIMESTAMP,
    "correlation_id": CORRELATION_ID,
}


class Envelope(BaseModel):
    model_config = ConfigDict(frozen=True)

    message_id: MessageId = Field(default_factory=new_id)
    message_type: str
    origin_service: str
    origin_instance: str
    timestamp: datetime = Field(default_factory=lambda: datetime.now(UTC))
    correlation_id: str | None = None

    def to_headers(self) -> dict[str, str]:
        headers = {
            MESSAGE_ID: self.message_id,
            NATS_MSG_ID: self.message_id,
            MESSAGE_TYPE: self.message_type,
            ORIGIN_SERVICE: self.origin_service,
            ORIGIN_INSTANCE: self.origin_instance,
            TIMESTAMP: self.timestamp.isoformat(),
        }
        if self.correlation_id is not None:
            headers[CORRELATION_ID] = self.correlation_id
        return headers

    @classmethod
    def from_headers(cls, headers: Mapping[str, str] | None) -> Envelope:
        if not headers:
            raise EnvelopeError("message has no envelope headers")
        missing = [h for f, h in _FIELDS.items() if f != "correlation_id" and not headers.get(h)]
        if missing:
            raise EnvelopeError(f"envelope headers missing: {', '.join(missing)}", {"missing": missing})
        try:
            return cls.model_validate({f: headers.get(h) for f, h in _FIELDS.items()})
        except ValidationError as exc:
            raise EnvelopeError(
                "envelope headers are malformed",
                {"errors": [{"loc": list(e["loc"]), "msg": e["msg"]} for e in exc.errors()]},
            ) from None

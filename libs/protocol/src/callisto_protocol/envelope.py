"""The envelope: facts about a message carried in NATS headers, beside the JSON body."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

from callisto_protocol.errors import EnvelopeError
from callisto_protocol.ids import new_id

MESSAGE_ID = "Cc-Message-Id"
MESSAGE_TYPE = "Cc-Message-Type"
ORIGIN_SERVICE = "Cc-Origin-Service"
ORIGIN_INSTANCE = "Cc-Origin-Instance"
TIMESTAMP = "Cc-Timestamp"
CORRELATION_ID = "Cc-Correlation-Id"
# The access token of the identity a command is sent by (a user's, or the sending service's own).
AUTHORIZATION = "Cc-Authorization"
# JetStream drops a second message with the same id inside its duplicate window.
NATS_MSG_ID = "Nats-Msg-Id"

_REQUIRED = (MESSAGE_ID, MESSAGE_TYPE, ORIGIN_SERVICE, ORIGIN_INSTANCE, TIMESTAMP)


@dataclass(frozen=True, slots=True)
class Envelope:
    """Facts about one message. A plain dataclass: it is read for every message received."""

    message_type: str
    origin_service: str
    origin_instance: str
    message_id: str = field(default_factory=new_id)
    timestamp: datetime = field(default_factory=lambda: datetime.now(UTC))
    correlation_id: str | None = None
    authorization: str | None = field(default=None, repr=False)

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
        if self.authorization is not None:
            headers[AUTHORIZATION] = self.authorization
        return headers

    @classmethod
    def from_headers(cls, headers: Mapping[str, str] | None) -> Envelope:
        """Read an envelope from received headers (checked by hand: this runs for every message)."""
        if not headers:
            raise EnvelopeError("message has no envelope headers")
        missing = [h for h in _REQUIRED if not headers.get(h)]
        if missing:
            raise EnvelopeError(f"envelope headers missing: {', '.join(missing)}", {"missing": missing})
        message_id = headers[MESSAGE_ID]
        if len(message_id) > 64:
            raise EnvelopeError("envelope message id is longer than 64 characters")
        try:
            timestamp = datetime.fromisoformat(headers[TIMESTAMP])
        except ValueError:
            raise EnvelopeError(
                "envelope timestamp is not an ISO 8601 date-time", {"timestamp": headers[TIMESTAMP][:64]}
            ) from None
        return cls(
            message_id=message_id,
            message_type=headers[MESSAGE_TYPE],
            origin_service=headers[ORIGIN_SERVICE],
            origin_instance=headers[ORIGIN_INSTANCE],
            timestamp=timestamp,
            correlation_id=headers.get(CORRELATION_ID) or None,
            authorization=headers.get(AUTHORIZATION) or None,
        )


def envelope_headers(
    message_type: str,
    origin_service: str,
    origin_instance: str,
    correlation_id: str | None = None,
    authorization: str | None = None,
) -> dict[str, str]:
    """The headers of a new envelope, built directly (the publish path of every message)."""
    message_id = os.urandom(16).hex()
    headers = {
        MESSAGE_ID: message_id,
        NATS_MSG_ID: message_id,
        MESSAGE_TYPE: message_type,
        ORIGIN_SERVICE: origin_service,
        ORIGIN_INSTANCE: origin_instance,
        TIMESTAMP: datetime.now(UTC).isoformat(),
    }
    if correlation_id is not None:
        headers[CORRELATION_ID] = correlation_id
    if authorization is not None:
        headers[AUTHORIZATION] = authorization
    return headers

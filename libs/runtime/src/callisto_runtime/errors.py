"""Errors of the runtime, and the root every service's errors descend from.

    CallistoError                  status, stable error_id slug, details; HTTP problem / bus error reply
    ├── BusError
    │   ├── NotConnected           NATS is not reachable now
    │   ├── PublishBufferFull      the bounded outbox is full; the event was refused (and counted)
    │   ├── NoResponders           nobody serves the command's subject
    │   ├── RequestTimeout         a responder exists but did not answer in time
    │   └── RemoteError            the responder answered with an ErrorReply (its status kept)
    ├── NotActive                  a singleton's standby was asked to do the active's work
    └── LeaseError                 the lease bucket cannot be used

Lower-layer errors (nats, pydantic) are translated here, at the boundary.
"""

from __future__ import annotations

from typing import Any

from callisto_protocol import ErrorReply


class CallistoError(Exception):
    status: int = 500
    error_id: str = "internal-error"

    def __init__(self, message: str, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or {}

    def to_reply(self) -> ErrorReply:
        return ErrorReply(
            error_id=self.error_id, message=self.message, details=self.details, status=self.status
        )


class BadRequest(CallistoError):
    status = 400
    error_id = "bad-request"


class NotFound(CallistoError):
    status = 404
    error_id = "not-found"


class Conflict(CallistoError):
    status = 409
    error_id = "conflict"


class BusError(CallistoError):
    status = 503
    error_id = "bus-error"


class NotConnected(BusError):
    error_id = "bus-not-connected"


class PublishBufferFull(BusError):
    error_id = "publish-buffer-full"


class NoResponders(BusError):
    error_id = "no-responders"


class RequestTimeout(BusError):
    status = 504
    error_id = "request-timeout"


class RemoteError(BusError):
    """The responder refused the command; ``error_id`` and ``status`` are the responder's own (502
    when the responder gave no status: an older one, or an unexpected failure)."""

    def __init__(self, reply: ErrorReply) -> None:
        super().__init__(reply.message, reply.details)
        self.error_id = reply.error_id
        self.status = reply.status or 502
        self.reply = reply


class NotActive(CallistoError):
    """A singleton's standby was asked to do the active's work."""

    status = 503
    error_id = "standby"


class LeaseError(CallistoError):
    error_id = "lease-error"

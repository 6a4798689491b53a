"""Errors of the protocol package.

ProtocolError
├── EnvelopeError          headers missing or malformed
├── UnknownMessageType     a message type nobody declared
├── MessageDecodeError     a body that is not valid JSON for its message class
└── SubjectError           subject parameters that are not single tokens, or a subject that
                           does not match the pattern of its message class
"""

from __future__ import annotations

from typing import Any


class ProtocolError(Exception):
    """Root of every error raised by ``callisto_protocol``."""

    error_id = "protocol-error"

    def __init__(self, message: str, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or {}


class EnvelopeError(ProtocolError):
    error_id = "invalid-envelope"


class UnknownMessageType(ProtocolError):
    error_id = "unknown-message-type"


class MessageDecodeError(ProtocolError):
    error_id = "invalid-message"


class SubjectError(ProtocolError):
    error_id = "invalid-subject"

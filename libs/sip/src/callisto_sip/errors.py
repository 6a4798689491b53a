"""Errors of the SIP layer.

    SipError
    ├── ParseError              malformed bytes; ``status`` is what a UAS answers (400, 505, 501, 413...)
    │   ├── IncompleteMessage   a stream holds only part of a message yet (wait for more bytes)
    │   └── MessageTooLarge     over the transport's size limit (513 over UDP, 413-like close on TCP)
    ├── TransactionError        a transaction timed out or its transport failed
    └── DialogError             a request that no dialog state allows

Every error has a stable ``error_id`` slug naming the defect, used by the lint command and tests.
"""

from __future__ import annotations


class SipError(Exception):
    error_id = "sip-error"

    def __init__(self, message: str, *, error_id: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if error_id is not None:
            self.error_id = error_id


class ParseError(SipError):
    error_id = "malformed"
    status = 400

    def __init__(self, message: str, *, error_id: str | None = None, status: int = 400) -> None:
        super().__init__(message, error_id=error_id)
        self.status = status


class IncompleteMessage(ParseError):
    error_id = "incomplete"


class MessageTooLarge(ParseError):
    error_id = "too-large"

    def __init__(self, message: str) -> None:
        super().__init__(message, status=513)


class TransactionError(SipError):
    error_id = "transaction-failed"


class DialogError(SipError):
    error_id = "dialog-error"

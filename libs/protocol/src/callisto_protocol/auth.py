"""Identity: the audit trail of auth and the key set services verify tokens with."""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from pydantic import Field

from callisto_protocol.ids import Token
from callisto_protocol.messages import Command, Event, Reply


class AuditRecorded(Event):
    """Something was done to identities or sessions: login, failed login, lockout, logout, refresh
    reuse, key rotation, user changes. Also written to auth's audit log."""

    message_type: ClassVar[str] = "auth.audit"
    subject: ClassVar[str] = "cc.auth.audit.{action}"
    action: Token
    actor: str = Field(max_length=200)
    target: str = Field(default="", max_length=200)
    source: str = Field(default="", max_length=200)
    at: datetime
    details: dict[str, Any] = {}


class Jwks(Reply):
    message_type: ClassVar[str] = "auth.jwks"
    keys: list[dict[str, Any]]


class GetJwks(Command):
    """The public keys access tokens are signed with (the same as GET /api/v1/jwks)."""

    message_type: ClassVar[str] = "auth.get-jwks"
    subject: ClassVar[str] = "cc.rpc.auth.jwks"
    reply_type: ClassVar[type[Reply]] = Jwks

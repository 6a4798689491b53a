"""Identity: the audit trail of auth and the key set services verify tokens with."""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from pydantic import Field

from callisto_protocol.ids import AgentId, Token
from callisto_protocol.messages import Command, Event, Reply


class AuditRecorded(Event):
    """Something was done to identities or sessions: login, failed login, lockout, logout, refresh
    reuse, key rotation, user changes. Also written to auth's audit log."""

    message_type: ClassVar[str] = "auth.audit"
    subject: ClassVar[str] = "cc.auth.audit.{action}"
    publisher: ClassVar[str] = "auth"
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


class ServiceToken(Reply):
    message_type: ClassVar[str] = "auth.service-token"
    access_token: str
    expires_in: int


class IssueServiceToken(Command):
    """A service account logs in: its name and secret for a short-lived access token. Every other
    command a service sends carries that token (``Cc-Authorization``)."""

    message_type: ClassVar[str] = "auth.issue-service-token"
    subject: ClassVar[str] = "cc.rpc.auth.service-token"
    reply_type: ClassVar[type[Reply]] = ServiceToken
    client_id: str = Field(min_length=1, max_length=100)
    client_secret: str = Field(min_length=1, max_length=200, repr=False)


class SipCredentials(Reply):
    """Digest credentials of one SIP user: HA1 only, never the password (RFC 8760: MD5 and SHA-256)."""

    message_type: ClassVar[str] = "auth.sip-credentials"
    username: str
    realm: str
    ha1_md5: str = Field(repr=False)
    ha1_sha256: str = Field(repr=False)
    user_id: str
    agent_id: AgentId | None = None


class GetSipCredentials(Command):
    """The digest credentials of a softphone user, for the registrar. Only call-manager's service
    account holds ``auth.sip-credentials.read``; unknown, inactive or password-less users get
    ``unknown-sip-user``."""

    message_type: ClassVar[str] = "auth.get-sip-credentials"
    subject: ClassVar[str] = "cc.rpc.auth.sip-credentials"
    reply_type: ClassVar[type[Reply]] = SipCredentials
    username: str = Field(min_length=1, max_length=100)


class UserChanged(Event):
    """A user account was created, changed or deactivated (the state after the change)."""

    message_type: ClassVar[str] = "auth.user-changed"
    subject: ClassVar[str] = "cc.auth.user.{user_id}"
    publisher: ClassVar[str] = "auth"
    user_id: Token
    login: str
    display_name: str
    roles: list[str]
    agent_id: AgentId | None = None
    active: bool
    change: Token
    by: str

"""Administration: signing-key rotation and the audit log (administrators only)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from callisto_auth.accounts import Accounts
from callisto_runtime import Service
from callisto_runtime.tokens import Claims


class AuditEntry(BaseModel):
    id: int
    at: datetime
    actor: str = Field(description="a user id, 'anonymous' or 'system'")
    action: str
    target: str
    source: str = Field(description="the client's address, or bus:<service>/<instance>")
    details: dict[str, Any]


class KeyRotated(BaseModel):
    kid: str
    signs_from: datetime


def router(service: Service, accounts: Accounts) -> APIRouter:
    api = APIRouter(prefix="/api/v1", tags=["administration"])
    may_rotate = service.require("auth.keys.rotate")
    may_read_audit = service.require("auth.audit.read")

    @api.post(
        "/keys/rotate",
        summary="Publish a new key now; it signs new tokens from signs_from on; old tokens stay valid",
    )
    async def rotate(claims: Claims = may_rotate) -> KeyRotated:
        kid, signs_from = await accounts.rotate_key(claims.subject)
        service.verifier.load(accounts.jwks())
        return KeyRotated(kid=kid, signs_from=signs_from)

    @api.get("/audit", summary="The newest audit records, optionally of one action, actor or target")
    async def audit(
        action: str | None = Query(default=None, max_length=100),
        actor: str | None = Query(default=None, max_length=200),
        target: str | None = Query(default=None, max_length=200),
        since: datetime | None = None,
        limit: int = Query(default=100, ge=1, le=1000),
        claims: Claims = may_read_audit,
    ) -> list[AuditEntry]:
        entries = await accounts.store.audit_entries(
            limit, action=action, actor=actor, target=target, since=since
        )
        return [AuditEntry.model_validate(entry) for entry in entries]

    return api

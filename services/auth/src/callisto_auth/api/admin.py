"""Administration: signing-key rotation and the audit log (administrators only)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Query

from callisto_auth.accounts import Accounts
from callisto_runtime import Service
from callisto_runtime.tokens import Claims


def router(service: Service, accounts: Accounts) -> APIRouter:
    api = APIRouter(prefix="/api/v1", tags=["administration"])
    may_rotate = service.require("auth.keys.rotate")
    may_read_audit = service.require("auth.audit.read")

    @api.post(
        "/keys/rotate", summary="Sign new tokens with a new key; old tokens stay valid until they expire"
    )
    async def rotate(claims: Claims = may_rotate) -> dict[str, str]:
        kid = await accounts.rotate_key(claims.subject)
        service.verifier.load(accounts.jwks())
        return {"kid": kid}

    @api.get("/audit", summary="The newest audit records, optionally of one action, actor or target")
    async def audit(
        action: str | None = Query(default=None, max_length=100),
        actor: str | None = Query(default=None, max_length=200),
        target: str | None = Query(default=None, max_length=200),
        since: datetime | None = None,
        limit: int = Query(default=100, ge=1, le=1000),
        claims: Claims = may_read_audit,
    ) -> list[dict[str, Any]]:
        return await accounts.store.audit_entries(
            limit, action=action, actor=actor, target=target, since=since
        )

    return api

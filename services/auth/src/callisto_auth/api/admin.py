"""Administration: signing-key rotation and the audit log (administrators only)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query

from callisto_auth.accounts import Accounts
from callisto_runtime.tokens import Claims, TokenVerifier, require


def router(accounts: Accounts, verifier: TokenVerifier) -> APIRouter:
    api = APIRouter(prefix="/api/v1", tags=["administration"])
    may_rotate = Depends(require(verifier, "auth.keys.rotate"))
    may_read_audit = Depends(require(verifier, "auth.audit.read"))

    @api.post(
        "/keys/rotate", summary="Sign new tokens with a new key; old tokens stay valid until they expire"
    )
    async def rotate(claims: Claims = may_rotate) -> dict[str, str]:
        kid = await accounts.rotate_key(claims.subject)
        verifier.load(accounts.jwks())
        return {"kid": kid}

    @api.get("/audit", summary="The newest audit records")
    async def audit(
        limit: int = Query(default=100, ge=1, le=1000), claims: Claims = may_read_audit
    ) -> list[dict[str, Any]]:
        return await accounts.store.audit_entries(limit)

    return api

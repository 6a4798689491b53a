"""/api/v1/token and /api/v1/jwks: sessions and the public keys."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, ConfigDict, Field, model_validator

from callisto_auth.accounts import Accounts, TokenPair
from callisto_auth.api.common import source


class TokenRequest(BaseModel):
    """Either ``username`` and ``password``, or ``refresh_token``."""

    username: str | None = Field(default=None, min_length=1, max_length=100)
    password: str | None = Field(default=None, min_length=1, max_length=200)
    refresh_token: str | None = Field(default=None, min_length=1, max_length=200)

    @model_validator(mode="after")
    def _one_grant(self) -> TokenRequest:
        password_grant = self.username is not None and self.password is not None
        if password_grant == (self.refresh_token is not None):
            raise ValueError("give either username and password, or refresh_token")
        return self


class LogoutRequest(BaseModel):
    refresh_token: str = Field(min_length=1, max_length=200)


class PublicKey(BaseModel):
    """A JSON Web Key (RFC 7517): Ed25519 keys are OKP, curve Ed25519, signing EdDSA."""

    model_config = ConfigDict(extra="allow")

    kid: str
    kty: str
    alg: str
    use: str = "sig"
    crv: str | None = None
    x: str | None = None


class KeySet(BaseModel):
    keys: list[PublicKey]


def router(accounts: Accounts) -> APIRouter:
    api = APIRouter(prefix="/api/v1", tags=["tokens"])

    @api.post(
        "/token",
        summary="Log in (username and password) or refresh a session",
        responses={
            401: {"description": "bad credentials or refresh token"},
            429: {"description": "locked out after repeated failures"},
        },
    )
    async def token(body: TokenRequest, request: Request) -> TokenPair:
        if body.refresh_token is not None:
            return await accounts.refresh(body.refresh_token, source(request))
        return await accounts.login(body.username or "", body.password or "", source(request))

    @api.delete("/token", status_code=204, summary="Log out: revoke the session of a refresh token")
    async def logout(body: LogoutRequest, request: Request) -> Response:
        await accounts.logout(body.refresh_token, source(request))
        return Response(status_code=204)

    @api.get("/jwks", summary="The public keys access tokens are signed with")
    async def jwks() -> KeySet:
        return KeySet.model_validate(accounts.jwks())

    return api

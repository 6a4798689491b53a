"""Access tokens verified locally: signed JWTs (EdDSA or ES256 only) checked against the issuer's
JWKS, fetched when a token names a key id not seen yet (key rotation: auth publishes a new key
before it signs with it). Fetches are shared by every request waiting for one and spaced by
``refresh_min_s``; a key id looked for and not found is not looked for again for ``kid_retry_s``, so
tokens naming made-up key ids cost one fetch per key id and never delay a real new key by more
than one spacing. No call to the auth service per request. A client sends the same token for its
whole life, so verified tokens are remembered (bounded, keyed by the whole token) until they expire:
the signature is checked once per token, the expiry on every use. Where the keys come from is the
caller's choice: ``fetch`` (over the bus for services, see ``Service``; ``jwks_over_http`` otherwise).

``require(verifier, "core-bus.services.{service}.drain")`` is a FastAPI dependency: it reads the
``Authorization: Bearer`` header, verifies the token (401 otherwise), fills the permission's
placeholders from the path parameters and checks it (403 otherwise), and returns the claims.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import jwt
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from callisto_runtime.errors import CallistoError
from callisto_runtime.permissions import allowed

ALGORITHMS = ("EdDSA", "ES256")
JwksFetch = Callable[[], Awaitable[dict[str, Any]]]


class TokenInvalid(CallistoError):
    status = 401
    error_id = "token-invalid"


class TokenExpired(TokenInvalid):
    error_id = "token-expired"


class KeysUnavailable(CallistoError):
    """The token names a key not known yet and the key set cannot be fetched: not the client's fault."""

    status = 503
    error_id = "keys-unavailable"


class PermissionDenied(CallistoError):
    status = 403
    error_id = "permission-denied"


@dataclass(frozen=True)
class Claims:
    subject: str
    roles: tuple[str, ...]
    permissions: tuple[str, ...]
    agent_id: str | None
    expires_at: int
    token_id: str
    token: str = field(default="", repr=False, compare=False)  # as presented: passed on when acting for them
    login: str = ""  # a person's login and name (a service account's token has neither)
    name: str = ""

    def can(self, permission: str) -> bool:
        return allowed(self.permissions, permission, self.agent_id)


class TokenVerifier:
    def __init__(
        self,
        *,
        issuer: str,
        audience: str,
        fetch: JwksFetch | None = None,
        jwks: dict[str, Any] | None = None,
        leeway_s: float = 5.0,
        refresh_min_s: float = 0.5,
        kid_retry_s: float = 10.0,
        cache_size: int = 10_000,
    ) -> None:
        self.issuer = issuer
        self.audience = audience
        self.fetch = fetch
        self.leeway_s = leeway_s
        self.refresh_min_s = refresh_min_s
        self.kid_retry_s = kid_retry_s
        self._keys: dict[str, jwt.PyJWK] = {}
        self._fetched_at = float("-inf")
        self._next_fetch: asyncio.Task[None] | None = None
        self._missing: OrderedDict[str, float] = OrderedDict()  # key id -> when it may be looked for again
        self._verified: OrderedDict[str, Claims] = OrderedDict()
        self.cache_size = cache_size
        if jwks is not None:
            self.load(jwks)

    def load(self, jwks: dict[str, Any]) -> None:
        keys: dict[str, jwt.PyJWK] = {}
        for entry in jwks.get("keys", []):
            if entry.get("kid") and entry.get("alg") in ALGORITHMS:
                keys[entry["kid"]] = jwt.PyJWK(entry)
        self._keys = keys
        for kid in keys:
            self._missing.pop(kid, None)

    async def refresh(self) -> None:
        """Fetch the key set: joins the fetch already waiting, else starts one (after the spacing)."""
        if self.fetch is None:
            return
        if self._next_fetch is None or self._next_fetch.done():
            self._next_fetch = asyncio.create_task(self._fetch_spaced())
        await asyncio.shield(self._next_fetch)

    async def _fetch_spaced(self) -> None:
        assert self.fetch is not None
        pause = self._fetched_at + self.refresh_min_s - time.monotonic()
        if pause > 0:
            await asyncio.sleep(pause)
        self._fetched_at = time.monotonic()
        self.load(await self.fetch())

    async def verify(self, token: str) -> Claims:
        kid = self._kid(token)
        asked = time.monotonic()
        if kid not in self._keys and self._missing.get(kid, 0.0) <= asked:
            try:
                await self.refresh()
                if kid not in self._keys and self._fetched_at < asked:  # joined a fetch begun before
                    await self.refresh()
            except Exception as exc:  # HTTP, bus or decoding errors alike
                raise KeysUnavailable("the signing keys cannot be fetched", {"reason": repr(exc)}) from None
            if kid not in self._keys:
                self._missing[kid] = time.monotonic() + self.kid_retry_s
                self._missing.move_to_end(kid)
                while len(self._missing) > 1000:
                    self._missing.popitem(last=False)
        return self.verify_cached(token)

    async def authorize(self, token: str | None, required: str, *alternatives: str) -> Claims:
        """The claims of ``token`` when it is valid (401) and grants ``required`` or one of the
        ``alternatives`` (403)."""
        if not token:
            raise TokenInvalid("an access token is required")
        claims = await self.verify(token)
        if not any(claims.can(p) for p in (required, *alternatives)):
            wanted = " or ".join((required, *alternatives))
            raise PermissionDenied(f"permission {wanted} is required", {"permission": required})
        return claims

    def verify_cached(self, token: str) -> Claims:
        """Verify with the keys at hand (no fetch)."""
        known = self._verified.get(token)
        if known is not None:
            if known.expires_at + self.leeway_s > time.time():
                self._verified.move_to_end(token)
                return known
            del self._verified[token]
            raise TokenExpired("the token has expired")
        claims = self._verify_signature(token)
        self._verified[token] = claims
        if len(self._verified) > self.cache_size:
            self._verified.popitem(last=False)
        return claims

    def _verify_signature(self, token: str) -> Claims:
        kid = self._kid(token)
        key = self._keys.get(kid)
        if key is None:
            raise TokenInvalid("the token is signed by an unknown key", {"kid": kid})
        try:
            payload = jwt.decode(
                token,
                key,
                algorithms=[key.algorithm_name],
                audience=self.audience,
                issuer=self.issuer,
                leeway=self.leeway_s,
                options={"require": ["exp", "iat", "sub", "jti", "aud", "iss"]},
            )
        except jwt.ExpiredSignatureError:
            raise TokenExpired("the token has expired") from None
        except jwt.InvalidTokenError as exc:
            raise TokenInvalid(f"the token is not valid: {exc}") from None
        if payload.get("typ") != "access":
            raise TokenInvalid("not an access token")
        return Claims(
            subject=str(payload["sub"]),
            roles=tuple(payload.get("roles", ())),
            permissions=tuple(payload.get("permissions", ())),
            agent_id=payload.get("agent_id"),
            expires_at=int(payload["exp"]),
            token_id=str(payload["jti"]),
            token=token,
            login=str(payload.get("login") or ""),
            name=str(payload.get("name") or ""),
        )

    @staticmethod
    def _kid(token: str) -> str:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.InvalidTokenError:
            raise TokenInvalid("the token is not a JWT") from None
        if header.get("alg") not in ALGORITHMS:
            raise TokenInvalid(f"algorithm {header.get('alg')!r} is not accepted")
        return str(header.get("kid", ""))


_BEARER = HTTPBearer(auto_error=False, description="an access token from auth (POST /api/v1/token)")


def authenticated(verifier: TokenVerifier) -> Callable[..., Awaitable[Claims]]:
    """A FastAPI dependency checking only the bearer token (the route decides what it grants)."""

    async def dependency(credentials: HTTPAuthorizationCredentials | None = Depends(_BEARER)) -> Claims:
        token = credentials.credentials.strip() if credentials is not None else ""
        if not token:
            raise TokenInvalid("an Authorization: Bearer token is required")
        return await verifier.verify(token)

    return dependency


def require(verifier: TokenVerifier, permission: str) -> Callable[[Request], Awaitable[Claims]]:
    """A FastAPI dependency checking a bearer token and the permission (placeholders from the path)."""

    async def dependency(
        request: Request, credentials: HTTPAuthorizationCredentials | None = Depends(_BEARER)
    ) -> Claims:
        token = credentials.credentials.strip() if credentials is not None else ""
        if not token:
            raise TokenInvalid("an Authorization: Bearer token is required")
        return await verifier.authorize(token, permission.format(**request.path_params))

    return dependency


def jwks_over_http(url: str, timeout_s: float = 3.0) -> JwksFetch:
    """A ``fetch`` for TokenVerifier reading the key set from an HTTP URL."""

    async def fetch() -> dict[str, Any]:
        async with httpx.AsyncClient(timeout=timeout_s) as client:
            reply = await client.get(url)
            reply.raise_for_status()
            keys: dict[str, Any] = reply.json()
            return keys

    return fetch

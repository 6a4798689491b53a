"""Logins, sessions and signing keys.

Login: failures are counted per login and per source address over a window; past the limit the
login (or address) is locked out for the rest of the window. The password is verified in every case
(also for an unknown login or a locked one), so neither the answer nor its timing tells whether a
login exists. A session is an access token (a short-lived signed JWT) and a refresh token (opaque,
stored hashed, rotated at every use; presenting a replaced one revokes the whole family).
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import os
import secrets
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import BaseModel

from callisto_auth.errors import BadClientSecret, BadCredentials, BadRefreshToken, LockedOut
from callisto_auth.keys import SigningKey
from callisto_auth.notifier import AuditTrail
from callisto_auth.passwords import verify_password
from callisto_auth.roles import Role, permissions_of
from callisto_auth.settings import AuthSettings
from callisto_auth.store import Store, User, token_hash
from callisto_protocol.auth import ServiceToken
from callisto_runtime.database import DatabaseUnavailable

log = logging.getLogger(__name__)


NO_SECRET = token_hash("callisto: no such service account")  # compared against when there is none


def utcnow() -> datetime:
    return datetime.now(UTC)


class TokenPair(BaseModel):
    access_token: str
    token_type: str = "Bearer"
    expires_in: int
    refresh_token: str
    refresh_expires_in: int


class Accounts:
    def __init__(
        self, store: Store, trail: AuditTrail, settings: AuthSettings, clock: Callable[[], datetime] = utcnow
    ) -> None:
        self.store = store
        self.settings = settings
        self._audit = trail.record
        self.clock = clock
        self._keys: list[tuple[SigningKey, datetime]] = []  # newest first; set by load_keys()
        self._published: list[dict[str, Any]] = []

    # sessions -----------------------------------------------------------------------------------
    async def login(self, login: str, password: str, source: str) -> TokenPair:
        keys = [f"login:{login.lower()}", f"source:{source}"]
        failures = await self._recent_failures(keys)
        locked = (
            failures.get(keys[0], 0) >= self.settings.lockout_failures
            or failures.get(keys[1], 0) >= self.settings.source_lockout_failures
        )
        user = await self.store.user_by_login(login)
        # argon2 takes tens of milliseconds of CPU: off the event loop (it releases the GIL)
        good = await asyncio.to_thread(verify_password, user.password_hash if user else None, password)
        if locked:
            await self._audit("login-locked", "anonymous", login, source, {"failures": failures})
            raise LockedOut("too many failed logins; try again later")
        if user is None or not good or not user.active:
            await self.store.record_failure(keys)
            await self._audit("login-failed", "anonymous", login, source)
            raise BadCredentials("the login or the password is wrong")
        await self.store.clear_failures(keys[0])
        await self._audit("login", user.id, user.login, source)
        return await self._issue(user, family=None)

    async def refresh(self, refresh_token: str, source: str) -> TokenPair:
        now = self.clock()
        new_token = secrets.token_urlsafe(32)
        rotated = await self.store.rotate_refresh(
            refresh_token,
            now,
            os.urandom(8).hex(),
            new_token,
            now + timedelta(seconds=self.settings.refresh_ttl_s),
        )
        if rotated is None:
            await self._audit("refresh-refused", "anonymous", "", source)
            raise BadRefreshToken(
                "the refresh token is not valid (unknown, expired, revoked or used already)"
            )
        user_id, family = rotated
        user = await self.store.user_by_id(user_id)
        if user is None or not user.active:
            await self.store.revoke_family_of(new_token, now)
            raise BadRefreshToken("the account is no longer active")
        return self._access(user, family, new_token)

    async def logout(self, refresh_token: str, source: str) -> None:
        family = await self.store.revoke_family_of(refresh_token, self.clock())
        await self._audit("logout", "anonymous", family or "", source)

    async def service_login(self, client_id: str, secret: str, source: str) -> ServiceToken:
        """A service account's login: one answer for every failure, each audited. Never locked out: a
        service secret is 256 random bits, out of reach of guessing, so a lockout would only let
        anyone who reaches the bus stop a service from logging in with its right secret."""
        account = await self.store.service_account(client_id)
        good = hmac.compare_digest(account.secret_hash if account else NO_SECRET, token_hash(secret))
        if account is None or not good or not account.active:
            await self._audit("service-login-failed", "anonymous", client_id, source)
            raise BadClientSecret("the service account or its secret is wrong")
        token = self._sign(
            f"service:{account.name}", account.name, account.name, [Role.SERVICE.value], account.permissions
        )
        return ServiceToken(access_token=token, expires_in=self.settings.access_ttl_s)

    async def _recent_failures(self, keys: list[str]) -> dict[str, int]:
        since = self.clock() - timedelta(seconds=self.settings.lockout_window_s)
        return await self.store.failures_since(keys, since)

    async def _issue(self, user: User, family: str | None) -> TokenPair:
        family = family or os.urandom(8).hex()
        refresh_token = secrets.token_urlsafe(32)
        expires = self.clock() + timedelta(seconds=self.settings.refresh_ttl_s)
        await self.store.add_refresh(
            self.store.pool, os.urandom(8).hex(), family, user.id, refresh_token, expires
        )
        return self._access(user, family, refresh_token)

    def _access(self, user: User, family: str, refresh_token: str) -> TokenPair:
        token = self._sign(
            user.id, user.display_name, user.login, user.roles, permissions_of(user.roles),
            agent_id=user.agent_id, sid=family,
        )  # fmt: skip
        return TokenPair(
            access_token=token,
            expires_in=self.settings.access_ttl_s,
            refresh_token=refresh_token,
            refresh_expires_in=self.settings.refresh_ttl_s,
        )

    def _sign(
        self, subject: str, name: str, login: str, roles: list[str], permissions: list[str], **extra: Any
    ) -> str:
        """An access token (the claims every service reads, see callisto_runtime.tokens)."""
        now = int(self.clock().timestamp())
        claims = {
            "iss": self.settings.issuer, "aud": self.settings.audience, "sub": subject, "iat": now,
            "exp": now + self.settings.access_ttl_s, "jti": os.urandom(12).hex(), "typ": "access",
            "name": name, "login": login, "roles": roles, "permissions": permissions, "agent_id": None,
            **extra,
        }  # fmt: skip
        return self.signing_key.sign(claims)

    # keys ---------------------------------------------------------------------------------------
    @property
    def signing_key(self) -> SigningKey:
        """The newest key whose time to sign has come (a rotated key is published a while before)."""
        now = self.clock()
        for key, signs_from in self._keys:
            if signs_from <= now:
                return key
        raise DatabaseUnavailable("the signing keys are not loaded yet")

    async def load_keys(self) -> None:
        retention = timedelta(seconds=self.settings.key_retention_s)
        keys = await self.store.signing_keys(self.clock(), retention)
        if not keys:
            await self.store.add_signing_key(SigningKey.generate(), self.clock())
            keys = await self.store.signing_keys(self.clock(), retention)
        self._keys = keys
        self._published = [key.public_jwk for key, _ in keys]

    async def rotate_key(self, actor: str) -> tuple[str, datetime]:
        """A new key, published now and signing after ``key_publish_ahead_s``: by then every service
        (and every auth instance, which reloads the keys more often than that) knows it."""
        key = SigningKey.generate()
        signs_from = self.clock() + timedelta(seconds=self.settings.key_publish_ahead_s)
        await self.store.add_signing_key(key, signs_from)
        await self.load_keys()
        await self._audit("key-rotated", actor, key.kid)
        return key.kid, signs_from

    def jwks(self) -> dict[str, Any]:
        return {"keys": list(self._published)}

"""A token issuer for testing one service without auth and its database: it signs access tokens the
way auth does (Ed25519, the same claims) and answers auth's two open bus commands (the public keys
and a service account's login) and the registrar's request for SIP credentials (``sip_users``), so
the service under test verifies tokens exactly as in production. Tests of auth itself, and the suite
tests, use the real auth service."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Mapping, Sequence
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from prometheus_client import CollectorRegistry

from callisto_protocol import Envelope
from callisto_protocol.auth import (
    GetJwks,
    GetSipCredentials,
    IssueServiceToken,
    Jwks,
    ServiceToken,
    SipCredentials,
)
from callisto_runtime import Bus
from callisto_runtime.errors import CallistoError
from callisto_runtime.metrics import BusMetrics
from callisto_runtime.settings import DEVELOPMENT_SECRET
from callisto_runtime.tokens import TokenVerifier
from callisto_sip.auth import ha1


class RefusedSecret(CallistoError):
    status = 401
    error_id = "bad-client-secret"


class UnknownSipUser(CallistoError):
    status = 404
    error_id = "unknown-sip-user"


class TestIssuer:
    __test__ = False  # not a test class, whatever pytest thinks of the name

    def __init__(
        self,
        service_permissions: Mapping[str, Sequence[str]] | None = None,
        *,
        issuer: str = "callisto-auth",
        audience: str = "callisto",
    ) -> None:
        self.service_permissions = dict(service_permissions or {})
        self.issuer = issuer
        self.audience = audience
        self.kid = os.urandom(6).hex()
        self._key = Ed25519PrivateKey.generate()
        self._bus: Bus | None = None
        self.sip_users: dict[str, tuple[str, str | None]] = {}  # username -> (password, agent id)
        self.sip_realm = "callisto"

    def jwks(self) -> dict[str, Any]:
        public = json.loads(jwt.algorithms.OKPAlgorithm.to_jwk(self._key.public_key()))
        return {"keys": [{**public, "kid": self.kid, "alg": "EdDSA", "use": "sig"}]}

    def token(
        self,
        *permissions: str,
        subject: str = "tester",
        agent_id: str | None = None,
        roles: Sequence[str] = (),
        ttl_s: int = 300,
        **claims: Any,
    ) -> str:
        now = int(time.time())
        payload = {
            "iss": self.issuer, "aud": self.audience, "sub": subject, "iat": now, "exp": now + ttl_s,
            "jti": os.urandom(8).hex(), "typ": "access", "roles": list(roles),
            "permissions": list(permissions), "agent_id": agent_id, **claims,
        }  # fmt: skip
        return jwt.encode(payload, self._key, algorithm="EdDSA", headers={"kid": self.kid})

    def bearer(self, *permissions: str, **kwargs: Any) -> dict[str, str]:
        """HTTP headers carrying a token with ``permissions``."""
        return {"Authorization": f"Bearer {self.token(*permissions, **kwargs)}"}

    async def start(self, nats_url: str) -> None:
        """Answer GetJwks and IssueServiceToken (the development secret, for the services named in
        ``service_permissions``) on the bus at ``nats_url``."""
        bus = Bus("auth", f"test-issuer-{self.kid}", BusMetrics(CollectorRegistry()))

        async def get_jwks(_: GetJwks, __: Envelope) -> Jwks:
            return Jwks(keys=self.jwks()["keys"])

        async def login(command: IssueServiceToken, _: Envelope) -> ServiceToken:
            granted = self.service_permissions.get(command.client_id)
            if granted is None or command.client_secret != DEVELOPMENT_SECRET:
                raise RefusedSecret("the service account or its secret is wrong")
            token = self.token(*granted, subject=f"service:{command.client_id}", roles=["service"])
            return ServiceToken(access_token=token, expires_in=300)

        async def sip_credentials(command: GetSipCredentials, _: Envelope) -> SipCredentials:
            found = self.sip_users.get(command.username)
            if found is None:
                raise UnknownSipUser(f"no SIP user {command.username!r}")
            password, agent_id = found
            return SipCredentials(
                username=command.username, realm=self.sip_realm, user_id=f"user-{command.username}",
                ha1_md5=ha1(command.username, self.sip_realm, password, "MD5"),
                ha1_sha256=ha1(command.username, self.sip_realm, password, "SHA-256"), agent_id=agent_id,
            )  # fmt: skip

        bus.verifier = TokenVerifier(issuer=self.issuer, audience=self.audience, jwks=self.jwks())
        await bus.serve(GetSipCredentials, sip_credentials, permission="auth.sip-credentials.read")
        await bus.serve(GetJwks, get_jwks, permission=None)
        await bus.serve(IssueServiceToken, login, permission=None)
        await bus.start(nats_url)
        await bus.wait_connected(10)
        self._bus = bus

    async def stop(self) -> None:
        if self._bus is not None:
            await self._bus.close()
            self._bus = None

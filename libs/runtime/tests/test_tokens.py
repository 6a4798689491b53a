"""Local token verification: what is refused with 401, what lacks permission (403), key rotation."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi import Depends, FastAPI

from callisto_devkit.pytest_plugin import serve_in_process
from callisto_runtime import problems
from callisto_runtime.tokens import Claims, TokenExpired, TokenInvalid, TokenVerifier, jwks_over_http, require

pytestmark = pytest.mark.unit
ISSUER, AUDIENCE = "callisto-auth", "callisto"


def keypair(kid: str) -> tuple[Ed25519PrivateKey, dict[str, Any]]:
    private = Ed25519PrivateKey.generate()
    jwk = json.loads(jwt.algorithms.OKPAlgorithm.to_jwk(private.public_key()))
    return private, {**jwk, "kid": kid, "alg": "EdDSA", "use": "sig"}


def token(private: Ed25519PrivateKey, kid: str, **overrides: Any) -> str:
    now = int(time.time())
    claims: dict[str, Any] = {
        "sub": "u1",
        "iss": ISSUER,
        "aud": AUDIENCE,
        "iat": now,
        "exp": now + 300,
        "jti": "t1",
        "typ": "access",
        "roles": ["operator"],
        "agent_id": "a7",
        "permissions": ["qm.agents.{agent_id}.state.update", "core-bus.services.read"],
    }
    claims.update(overrides)
    return jwt.encode(claims, private, algorithm="EdDSA", headers={"kid": kid})


KEY1, JWK1 = keypair("k1")
VERIFIER = TokenVerifier(issuer=ISSUER, audience=AUDIENCE, jwks={"keys": [JWK1]})


def test_a_valid_token_gives_its_claims() -> None:
    claims = VERIFIER.verify_cached(token(KEY1, "k1"))
    assert (claims.subject, claims.roles, claims.agent_id) == ("u1", ("operator",), "a7")
    assert claims.can("qm.agents.a7.state.update") and not claims.can("qm.agents.a8.state.update")


def forged_alg_none() -> str:
    def b64(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    now = int(time.time())
    return f"{b64({'alg': 'none', 'kid': 'k1'})}.{b64({'sub': 'admin', 'exp': now + 60})}."


def tampered() -> str:
    head, body, sig = token(KEY1, "k1").split(".")
    payload = json.loads(base64.urlsafe_b64decode(body + "=="))
    payload["permissions"] = ["#"]
    forged = base64.urlsafe_b64encode(json.dumps(payload).encode()).rstrip(b"=").decode()
    return f"{head}.{forged}.{sig}"


def hmac_confusion() -> str:
    public = KEY1.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return jwt.encode(
        {"sub": "u1", "exp": int(time.time()) + 60}, public, algorithm="HS256", headers={"kid": "k1"}
    )


@pytest.mark.parametrize(("make", "error"), [
    (lambda: token(KEY1, "k1", exp=int(time.time()) - 60), TokenExpired),
    (tampered, TokenInvalid),
    (lambda: token(keypair("k1")[0], "k1"), TokenInvalid),  # another key under the same id
    (forged_alg_none, TokenInvalid),
    (hmac_confusion, TokenInvalid),
    (lambda: token(KEY1, "k1", aud="someone-else"), TokenInvalid),
    (lambda: token(KEY1, "k1", iss="impostor"), TokenInvalid),
    (lambda: token(KEY1, "k1", typ="refresh"), TokenInvalid),
    (lambda: token(KEY1, "unknown-kid"), TokenInvalid),
    (lambda: "not-a-jwt", TokenInvalid),
])  # fmt: skip
def test_refused_tokens(make: Any, error: type[Exception]) -> None:
    with pytest.raises(error):
        VERIFIER.verify_cached(make())


@pytest.mark.integration
async def test_rotation_and_the_route_dependency() -> None:
    key2, jwk2 = keypair("k2")
    published = {"keys": [JWK1]}
    fetches = 0
    jwks_app = FastAPI()

    @jwks_app.get("/jwks")
    async def jwks() -> dict[str, Any]:
        nonlocal fetches
        fetches += 1
        return published

    async with serve_in_process(jwks_app) as jwks_base:
        verifier = TokenVerifier(
            issuer=ISSUER, audience=AUDIENCE, fetch=jwks_over_http(f"{jwks_base}/jwks"), refresh_min_s=0
        )
        api = FastAPI()
        problems.install(api)

        may_change = Depends(require(verifier, "qm.agents.{agent_id}.state.update"))

        @api.post("/agents/{agent_id}/state")
        async def change(agent_id: str, claims: Claims = may_change) -> dict[str, str]:
            return {"by": claims.subject, "agent": agent_id}

        async with serve_in_process(api) as base, httpx.AsyncClient(base_url=base) as http:
            missing = await http.post("/agents/a7/state")
            assert missing.json()["error_id"] == "token-invalid", missing.text
            ok = await http.post("/agents/a7/state", headers={"Authorization": f"Bearer {token(KEY1, 'k1')}"})
            assert ok.status_code == 200 and ok.json() == {"by": "u1", "agent": "a7"}
            other = await http.post(
                "/agents/a8/state", headers={"Authorization": f"Bearer {token(KEY1, 'k1')}"}
            )
            assert (other.status_code, other.json()["error_id"]) == (403, "permission-denied")
            made_up, _ = keypair("zz")
            before = fetches
            for _ in range(5):  # a key id nobody published: looked for once, then refused at once
                refused = await http.post(
                    "/agents/a7/state", headers={"Authorization": f"Bearer {token(made_up, 'zz')}"}
                )
                assert refused.status_code == 401
            assert fetches == before + 1
            published["keys"] = [JWK1, jwk2]  # the issuer rotates: the new key is published, then signs
            rotated = token(key2, "k2")
            assert (
                await http.post("/agents/a7/state", headers={"Authorization": f"Bearer {rotated}"})
            ).status_code == 200  # on first sight, not after a refresh period
            expired = token(KEY1, "k1", exp=int(time.time()) - 60)
            late = await http.post("/agents/a7/state", headers={"Authorization": f"Bearer {expired}"})
            assert (late.status_code, late.json()["error_id"]) == (401, "token-expired")


def test_a_remembered_token_still_expires() -> None:
    verifier = TokenVerifier(issuer=ISSUER, audience=AUDIENCE, jwks={"keys": [JWK1]}, leeway_s=0)
    fresh = token(KEY1, "k1")
    first = verifier.verify_cached(fresh)
    assert verifier.verify_cached(fresh) is first  # the signature is checked once per token
    verifier._verified[fresh] = Claims("u1", (), (), None, int(time.time()) - 1, "t1")  # its time has come
    with pytest.raises(TokenExpired):
        verifier.verify_cached(fresh)

"""auth against real PostgreSQL and NATS: logins, lockout, sessions, keys, audit."""

from __future__ import annotations

import asyncio

import httpx
import jwt
import pytest
from auth_testing import login, verifier_for

from callisto_protocol.auth import GetJwks, Jwks
from callisto_runtime import Service

pytestmark = pytest.mark.integration


async def test_demo_operator_logs_in_and_the_token_verifies_locally(
    auth: tuple[httpx.AsyncClient, Service],
) -> None:
    http, _ = auth
    reply = await login(http, "operator1")
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 300
    claims = (await verifier_for(http)).verify_cached(body["access_token"])
    assert (claims.roles, claims.agent_id) == (("operator",), "agent-1")
    assert claims.can("qm.agents.agent-1.state.update") and not claims.can("qm.agents.agent-2.state.update")
    assert not claims.can("auth.audit.read")


async def test_wrong_password_and_unknown_login_look_the_same(
    auth: tuple[httpx.AsyncClient, Service],
) -> None:
    http, _ = auth
    wrong = await login(http, "operator2", "nope")
    unknown = await login(http, "nobody-here", "nope")
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json()["detail"] == unknown.json()["detail"]
    assert wrong.json()["error_id"] == unknown.json()["error_id"] == "bad-credentials"


async def test_a_burst_of_wrong_passwords_locks_the_login_and_is_audited(
    auth: tuple[httpx.AsyncClient, Service],
) -> None:
    http, _ = auth
    for _ in range(3):
        assert (await login(http, "operator3", "guess")).status_code == 401
    locked = await login(http, "operator3")  # the right password, too late
    assert (locked.status_code, locked.json()["error_id"]) == (429, "locked-out")
    admin = (await login(http, "admin")).json()["access_token"]
    audit = (await http.get("/api/v1/audit", headers={"Authorization": f"Bearer {admin}"})).json()
    actions = [(e["action"], e["target"]) for e in audit]
    assert ("login-locked", "operator3") in actions
    assert actions.count(("login-failed", "operator3")) == 3
    operator = (await login(http, "operator1")).json()["access_token"]
    refused = await http.get("/api/v1/audit", headers={"Authorization": f"Bearer {operator}"})
    assert (refused.status_code, refused.json()["error_id"]) == (403, "permission-denied")


async def test_x_forwarded_for_is_believed_from_trusted_proxies_only(
    auth: tuple[httpx.AsyncClient, Service],
) -> None:
    """Reproduced before: any local client could name its own address in X-Forwarded-For, choosing the
    audited source and dodging the lockout by source."""
    http, _ = auth
    for n in range(2):
        spoofed = await http.post(
            "/api/v1/token",
            json={"username": "operator2", "password": "guess"},
            headers={"X-Forwarded-For": f"203.0.113.{n}"},
        )
        assert spoofed.status_code == 401
    admin = (await login(http, "admin")).json()["access_token"]
    audit = (
        await http.get(
            "/api/v1/audit", params={"action": "login-failed", "target": "operator2"},
            headers={"Authorization": f"Bearer {admin}"},
        )
    ).json()  # fmt: skip
    assert {e["source"] for e in audit} == {"127.0.0.1"}


async def test_refresh_rotates_and_reuse_revokes_the_whole_family(
    auth: tuple[httpx.AsyncClient, Service],
) -> None:
    http, _ = auth
    first = (await login(http, "supervisor1")).json()
    second = (await http.post("/api/v1/token", json={"refresh_token": first["refresh_token"]})).json()
    assert second["refresh_token"] != first["refresh_token"]
    reuse = await http.post("/api/v1/token", json={"refresh_token": first["refresh_token"]})
    assert (reuse.status_code, reuse.json()["error_id"]) == (401, "bad-refresh-token")
    after = await http.post("/api/v1/token", json={"refresh_token": second["refresh_token"]})
    assert after.status_code == 401  # the stolen token's whole family is gone


async def test_logout_ends_the_session(auth: tuple[httpx.AsyncClient, Service]) -> None:
    http, _ = auth
    session = (await login(http, "quality1")).json()
    out = await http.request("DELETE", "/api/v1/token", json={"refresh_token": session["refresh_token"]})
    assert out.status_code == 204
    assert (
        await http.post("/api/v1/token", json={"refresh_token": session["refresh_token"]})
    ).status_code == 401


async def test_key_rotation_keeps_old_tokens_valid(auth: tuple[httpx.AsyncClient, Service]) -> None:
    """Reproduced before: a rotated key signed at once, so every service refused the new tokens until
    it fetched the keys again. Now the key is published first and signs a moment later."""
    http, service = auth
    admin = (await login(http, "admin")).json()["access_token"]
    rotated = await http.post("/api/v1/keys/rotate", headers={"Authorization": f"Bearer {admin}"})
    assert rotated.status_code == 200
    new_kid = rotated.json()["kid"]
    verifier = await verifier_for(http)  # a service that fetched the keys right after the rotation
    assert len((await http.get("/api/v1/jwks")).json()["keys"]) == 2
    verifier.verify_cached(admin)  # signed with the retired key: still valid until it expires
    meanwhile = (await login(http, "admin")).json()["access_token"]
    assert jwt.get_unverified_header(meanwhile)["kid"] != new_kid  # not signing yet
    verifier.verify_cached(meanwhile)

    async def signed_by_the_new_key() -> str | None:
        token = (await login(http, "admin")).json()["access_token"]
        return token if jwt.get_unverified_header(token)["kid"] == new_kid else None

    fresh = None
    async with asyncio.timeout(10):
        while fresh is None:
            fresh = await signed_by_the_new_key()
            await asyncio.sleep(0.2)
    verifier.verify_cached(fresh)  # known already: no fetch needed
    reply = await service.bus.call(GetJwks(), Jwks)  # the same keys over the bus
    assert {k["kid"] for k in reply.keys} == {
        k["kid"] for k in (await http.get("/api/v1/jwks")).json()["keys"]
    }


@pytest.mark.parametrize("body", [
    {"username": "' OR '1'='1' --", "password": "x' OR 'x'='x"},
    {"username": "admin'; DROP TABLE users; --", "password": "callisto"},
])  # fmt: skip
async def test_injection_strings_are_only_data(
    auth: tuple[httpx.AsyncClient, Service], body: dict[str, str]
) -> None:
    http, _ = auth
    reply = await http.post("/api/v1/token", json=body)
    assert (reply.status_code, reply.json()["error_id"]) == (401, "bad-credentials")
    assert (await login(http, "admin")).status_code == 200  # the users table is still there


@pytest.mark.parametrize(("body", "status"), [
    ({"username": "admin"}, 422),
    ({"username": "admin", "password": "x", "refresh_token": "y"}, 422),
    ({"username": "", "password": "x"}, 422),
    ({"username": "a" * 5000, "password": "x"}, 413),
])  # fmt: skip
async def test_bad_requests(
    auth: tuple[httpx.AsyncClient, Service], body: dict[str, str], status: int
) -> None:
    http, _ = auth
    assert (await http.post("/api/v1/token", json=body)).status_code == status

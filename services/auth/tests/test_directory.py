"""Administrators manage people and service accounts; call-manager alone reads SIP credentials."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from auth_testing import bearer, login
from prometheus_client import CollectorRegistry

from callisto_auth.app import build
from callisto_auth.settings import AuthSettings
from callisto_devkit.processes import free_port
from callisto_devkit.pytest_plugin import serve_in_process
from callisto_devkit.servers import NatsServer
from callisto_protocol import Envelope
from callisto_protocol.auth import (
    AuditRecorded,
    GetSipCredentials,
    IssueServiceToken,
    ServiceToken,
    SipCredentials,
    UserChanged,
)
from callisto_runtime import Bus, Mode, RemoteError, Service
from callisto_runtime.metrics import BusMetrics
from callisto_runtime.settings import DEVELOPMENT_SECRET

pytestmark = pytest.mark.integration
NEW_USER = {
    "login": "operator9",
    "display_name": "Nina Night-shift",
    "password": "long-enough-1",
    "roles": ["operator"],
    "agent_id": "agent-9",
}


@pytest.fixture
async def caller(auth: tuple[httpx.AsyncClient, Service]) -> AsyncIterator[Bus]:
    """Another party on the bus (e.g. call-manager)."""
    _, service = auth
    bus = Bus("tester", "t1", BusMetrics(CollectorRegistry()))
    await bus.start(service.settings.nats_url)
    await bus.wait_connected(10)
    try:
        yield bus
    finally:
        await bus.close()


async def service_token(bus: Bus, name: str, secret: str = DEVELOPMENT_SECRET) -> str:
    command = IssueServiceToken(client_id=name, client_secret=secret)
    return (await bus.call(command, ServiceToken, anonymous=True)).access_token


async def test_an_administrator_creates_a_person_who_can_log_in(
    auth: tuple[httpx.AsyncClient, Service], caller: Bus
) -> None:
    http, _ = auth
    changed: list[UserChanged] = []
    audited: list[AuditRecorded] = []

    async def on_changed(event: UserChanged, _: Envelope) -> None:
        changed.append(event)

    async def on_audit(event: AuditRecorded, _: Envelope) -> None:
        audited.append(event)

    await caller.subscribe(UserChanged, on_changed)
    await caller.subscribe(AuditRecorded, on_audit)
    await caller.nc.flush()
    admin = await bearer(http, "admin")
    created = await http.post("/api/v1/users", json=NEW_USER, headers=admin)
    assert created.status_code == 201, created.text
    user = created.json()
    assert created.headers["location"] == f"/api/v1/users/{user['id']}"
    assert (user["login"], user["roles"], user["agent_id"], user["active"]) == (
        "operator9",
        ["operator"],
        "agent-9",
        True,
    )
    assert "password" not in created.text and "argon2" not in created.text
    assert (await login(http, "operator9", "long-enough-1")).status_code == 200
    listed = await http.get("/api/v1/users", params={"role": "operator", "q": "night"}, headers=admin)
    assert [u["login"] for u in listed.json()] == ["operator9"]

    for _ in range(100):
        if changed and any(a.action == "user-created" for a in audited):
            break
        await asyncio.sleep(0.05)
    assert (changed[0].login, changed[0].change, changed[0].agent_id) == ("operator9", "created", "agent-9")
    entry = (await http.get("/api/v1/audit", params={"action": "user-created"}, headers=admin)).json()[0]
    admin_id = (await http.get("/api/v1/users", params={"q": "admin"}, headers=admin)).json()[0]["id"]
    assert (entry["actor"], entry["target"], entry["source"]) == (admin_id, "operator9", "127.0.0.1")


async def test_only_administrators_manage_people(auth: tuple[httpx.AsyncClient, Service]) -> None:
    http, _ = auth
    assert (await http.get("/api/v1/users")).status_code == 401
    for who in ("operator1", "supervisor1", "integrator1"):
        headers = await bearer(http, who)
        assert (await http.get("/api/v1/users", headers=headers)).status_code == 403
        assert (await http.post("/api/v1/users", json=NEW_USER, headers=headers)).status_code == 403
        assert (await http.get("/api/v1/service-accounts", headers=headers)).status_code == 403
    roles = (await http.get("/api/v1/roles", headers=await bearer(http, "admin"))).json()
    assert {r["role"] for r in roles} == {
        "operator",
        "supervisor",
        "administrator",
        "quality-manager",
        "integrator",
    }


async def test_rights_changes_end_sessions_and_deactivation_ends_logins(
    auth: tuple[httpx.AsyncClient, Service],
) -> None:
    http, _ = auth
    admin = await bearer(http, "admin")
    user = (await http.get("/api/v1/users", params={"q": "operator2"}, headers=admin)).json()[0]
    session = (await login(http, "operator2")).json()
    promoted = await http.patch(f"/api/v1/users/{user['id']}", json={"roles": ["supervisor"]}, headers=admin)
    assert promoted.json()["roles"] == ["supervisor"]
    stale = await http.post("/api/v1/token", json={"refresh_token": session["refresh_token"]})
    assert stale.status_code == 401  # the old session carried the old rights
    fresh = (await login(http, "operator2")).json()
    renamed = await http.patch(f"/api/v1/users/{user['id']}", json={"display_name": "Omar O."}, headers=admin)
    assert renamed.json()["display_name"] == "Omar O."
    kept = await http.post("/api/v1/token", json={"refresh_token": fresh["refresh_token"]})
    assert kept.status_code == 200  # a new name changes no rights

    gone = await http.delete(f"/api/v1/users/{user['id']}", headers=admin)
    assert gone.json()["active"] is False
    assert (await login(http, "operator2")).json()["error_id"] == "bad-credentials"
    refresh = await http.post("/api/v1/token", json={"refresh_token": kept.json()["refresh_token"]})
    assert refresh.status_code == 401
    # the agent is free again once its person is deactivated
    rebound = {**NEW_USER, "agent_id": "agent-2"}
    assert (await http.post("/api/v1/users", json=rebound, headers=admin)).status_code == 201


async def test_conflicts_and_bad_input(auth: tuple[httpx.AsyncClient, Service]) -> None:
    http, _ = auth
    admin = await bearer(http, "admin")

    async def create(**changes: object) -> httpx.Response:
        return await http.post("/api/v1/users", json={**NEW_USER, **changes}, headers=admin)

    assert (await create(login="operator1")).json()["error_id"] == "login-taken"
    assert (await create(agent_id="agent-1")).json()["error_id"] == "agent-taken"
    for bad in (
        {"roles": ["service"]},
        {"roles": []},
        {"roles": ["wizard"]},
        {"password": "short"},
        {"login": "x'; DROP TABLE users; --"},
        {"agent_id": "agent.1"},
        {"is_admin": True},
    ):
        reply = await create(**bad)
        assert (reply.status_code, reply.json()["error_id"]) == (422, "invalid-request"), bad
    injected = await create(display_name="Robert'); DROP TABLE users;--")
    assert injected.json()["display_name"] == "Robert'); DROP TABLE users;--"  # stored verbatim
    assert (await login(http, "admin")).status_code == 200

    admin_user = (await http.get("/api/v1/users", params={"role": "administrator"}, headers=admin)).json()
    assert len(admin_user) == 1
    last = f"/api/v1/users/{admin_user[0]['id']}"
    assert (await http.delete(last, headers=admin)).json()["error_id"] == "last-administrator"
    demoted = await http.patch(last, json={"roles": ["supervisor"]}, headers=admin)
    assert (demoted.status_code, demoted.json()["error_id"]) == (409, "last-administrator")
    assert (await http.patch(last, json={"active": None}, headers=admin)).status_code == 422
    assert (await http.get("/api/v1/users/nobody", headers=admin)).status_code == 404


async def test_call_manager_alone_reads_sip_credentials(
    auth: tuple[httpx.AsyncClient, Service], caller: Bus
) -> None:
    http, _ = auth
    admin = await bearer(http, "admin")
    user = (await http.get("/api/v1/users", params={"q": "operator3"}, headers=admin)).json()[0]
    assert user["sip_credentials"] is True  # demo operators have SIP passwords (= their password)
    generated = await http.put(f"/api/v1/users/{user['id']}/sip-password", json={}, headers=admin)
    sip = generated.json()
    assert (sip["username"], sip["realm"]) == ("operator3", "callisto") and len(sip["password"]) >= 12

    call_manager = await service_token(caller, "call-manager")
    reply = await caller.call(GetSipCredentials(username="operator3"), SipCredentials, token=call_manager)
    expected = hashlib.md5(f"operator3:callisto:{sip['password']}".encode()).hexdigest()
    assert (reply.ha1_md5, reply.agent_id, reply.realm) == (expected, "agent-3", "callisto")
    assert reply.ha1_sha256 == hashlib.sha256(f"operator3:callisto:{sip['password']}".encode()).hexdigest()

    async def refused(token: str | None, username: str = "operator3") -> str:
        with pytest.raises(RemoteError) as error:
            await caller.call(GetSipCredentials(username=username), SipCredentials, token=token)
        return error.value.error_id

    assert await refused(None) == "token-invalid"
    assert await refused(await service_token(caller, "queue-manager")) == "permission-denied"
    operator = (await login(http, "operator3")).json()["access_token"]
    assert await refused(operator) == "permission-denied"
    assert await refused(call_manager, "supervisor1") == "unknown-sip-user"  # no SIP password
    assert await refused(call_manager, "nobody") == "unknown-sip-user"
    await http.delete(f"/api/v1/users/{user['id']}", headers=admin)
    assert await refused(call_manager) == "unknown-sip-user"  # deactivated


async def test_service_accounts_secrets_and_lockout(
    auth: tuple[httpx.AsyncClient, Service], caller: Bus
) -> None:
    http, _ = auth
    admin = await bearer(http, "admin")
    accounts = (await http.get("/api/v1/service-accounts", headers=admin)).json()
    assert {"core-bus", "call-manager", "queue-manager", "snitch", "helpdesk"} <= {
        a["name"] for a in accounts
    }
    created = await http.post(
        "/api/v1/service-accounts",
        json={"name": "crm-sync", "permissions": ["helpdesk.contacts.#"]},
        headers=admin,
    )
    assert created.status_code == 201, created.text
    secret = created.json()["secret"]
    assert len(secret) >= 40
    assert (await http.get("/api/v1/service-accounts", headers=admin)).text.count(secret) == 0
    token = await service_token(caller, "crm-sync", secret)
    assert token.count(".") == 2

    rotated = (await http.post("/api/v1/service-accounts/crm-sync/secret", headers=admin)).json()["secret"]
    with pytest.raises(RemoteError) as old:
        await service_token(caller, "crm-sync", secret)
    assert old.value.error_id == "bad-client-secret"
    assert await service_token(caller, "crm-sync", rotated)

    for bad in (
        {"name": "Bad Name"},
        {"name": "x", "permissions": ["not a permission"]},
        {"name": "x", "permissions": ["a.#.b"]},
    ):
        reply = await http.post("/api/v1/service-accounts", json=bad, headers=admin)
        assert reply.status_code == 422, bad
    duplicate = await http.post("/api/v1/service-accounts", json={"name": "crm-sync"}, headers=admin)
    assert duplicate.json()["error_id"] == "service-account-exists"

    for _ in range(6):  # wrong secrets from anyone on the bus: refused and audited, never a lockout
        with pytest.raises(RemoteError) as refused:
            await service_token(caller, "crm-sync", "guessed")
        assert (refused.value.error_id, refused.value.status) == ("bad-client-secret", 401)
    assert await service_token(caller, "crm-sync", rotated)  # the service itself still logs in
    failed = (
        await http.get("/api/v1/audit", params={"action": "service-login-failed"}, headers=admin)
    ).json()
    assert failed[0]["target"] == "crm-sync" and failed[0]["source"].startswith("bus:tester/")

    off = await http.patch("/api/v1/service-accounts/crm-sync", json={"active": False}, headers=admin)
    assert off.json()["active"] is False
    with pytest.raises(RemoteError) as disabled:
        await service_token(caller, "crm-sync", rotated)
    assert disabled.value.error_id == "bad-client-secret"


async def test_production_makes_the_service_accounts_a_mounted_secret_names_and_keeps_existing_ones(
    nats_server: NatsServer, postgres_database: str, tmp_path: Path
) -> None:
    """A Kubernetes Secret mounted as files (one per service, its ..data link beside): auth makes the
    accounts that are missing with those secrets; the development secret and strangers are refused."""
    folder = tmp_path / "service-secrets"
    folder.mkdir()
    (folder / "queue-manager").write_text("qm-secret-from-the-cluster-0123456789\n")
    (folder / "snitch").write_text(DEVELOPMENT_SECRET)
    (folder / "stranger").write_text("whatever-it-is-0123456789")
    (folder / "..data").mkdir()
    settings = AuthSettings(nats_url=nats_server.url, http_port=free_port(), database_url=postgres_database,
                            mode=Mode.PRODUCTION, service_secrets_dir=folder)  # fmt: skip
    first, later = "qm-secret-from-the-cluster-0123456789", "another-secret-later-0123456789"
    for start in ("first start", "a restart with the file changed"):
        _, _, app = build(settings)
        async with serve_in_process(app, settings.http_port) as base, httpx.AsyncClient() as http:
            for _ in range(200):
                if (await http.get(f"{base}/readyz")).status_code == 200:
                    break
                await asyncio.sleep(0.05)
            bus = Bus("tester", "t1", BusMetrics(CollectorRegistry()))
            await bus.start(nats_server.url)
            await bus.wait_connected(10)
            try:
                assert (await service_token(bus, "queue-manager", first)).count(".") == 2, start
                refused = [("snitch", DEVELOPMENT_SECRET), ("stranger", "whatever-it-is-0123456789")]
                if start != "first start":
                    refused.append(("queue-manager", later))  # an existing account keeps its secret
                for name, secret in refused:
                    with pytest.raises(RemoteError):
                        await service_token(bus, name, secret)
            finally:
                await bus.close()
        (folder / "queue-manager").write_text(later)

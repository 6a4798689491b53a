"""Two core-bus processes: one active, one standby; SIGKILL the active and the standby takes over,
knowing the registry the other had written."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest

from callisto_devkit.issuer import TestIssuer
from callisto_devkit.processes import ManagedProcess, free_port, wait_until
from callisto_devkit.pytest_plugin import spawn_service, wait_http
from callisto_devkit.servers import NatsServer

pytestmark = [pytest.mark.integration, pytest.mark.fault, pytest.mark.slow]
LEASE_TTL = 1.5


def start_core_bus(nats: NatsServer, name: str, tmp_path: Path) -> tuple[ManagedProcess, str]:
    port = free_port()
    env = {
        "CALLISTO_CORE_BUS_MODE": "development",
        "CALLISTO_CORE_BUS_NATS_URL": nats.url,
        "CALLISTO_CORE_BUS_HTTP_PORT": str(port),
        "CALLISTO_CORE_BUS_INSTANCE_ID": name,
        "CALLISTO_CORE_BUS_LEASE_TTL_S": str(LEASE_TTL),
    }
    process = spawn_service("callisto_core_bus", env, tmp_path / f"{name}.log")
    base = f"http://127.0.0.1:{port}"
    wait_http(f"{base}/readyz", 30, process=process)
    return process, base


def role(base: str) -> str:
    try:
        return str(httpx.get(f"{base}/readyz", timeout=1).json()["role"])
    except httpx.HTTPError:
        return "unreachable"


def test_standby_takes_over_when_the_active_is_killed(
    private_nats: NatsServer, token_issuer: TestIssuer, tmp_path: Path
) -> None:
    reader = token_issuer.bearer("core-bus.services.read", "core-bus.health.read")
    first, first_url = start_core_bus(private_nats, "cb-one", tmp_path)
    wait_until(lambda: role(first_url) == "active", 10, "cb-one active")
    second, second_url = start_core_bus(private_nats, "cb-two", tmp_path)
    try:
        time.sleep(LEASE_TTL)
        assert (role(first_url), role(second_url)) == ("active", "standby")
        listed = {i["instance"]: i for i in httpx.get(f"{second_url}/api/v1/services", headers=reader).json()}
        assert listed["cb-one"]["role"] == "active" and listed["cb-two"]["role"] == "standby"

        first.kill()
        killed = time.monotonic()
        wait_until(lambda: role(second_url) == "active", LEASE_TTL * 4, "cb-two takes over", interval=0.02)
        takeover = time.monotonic() - killed
        assert takeover < LEASE_TTL + 1.5, f"takeover took {takeover:.2f} s"

        def first_gone() -> bool:
            listed = {
                i["instance"]: i for i in httpx.get(f"{second_url}/api/v1/services", headers=reader).json()
            }
            return listed["cb-one"]["state"] == "gone"

        wait_until(first_gone, 10, "cb-one marked gone")
        health = httpx.get(f"{second_url}/api/v1/health", headers=reader).json()
        assert health["services"][0]["active"] == 1
    finally:
        first.kill()
        second.stop()

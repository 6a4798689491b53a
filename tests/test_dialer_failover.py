"""Two dialer processes on one PostgreSQL while a campaign runs through call-manager and queue-manager
(sipp customers and agent): SIGKILL the active mid-campaign; the standby takes over the lease and the
campaign, the calls already placed are followed to their end, and no attempt is ever dialled twice
(each attempt's call is created once; an attempt written but not dialled before the kill is never
dialled)."""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest
from calls_testing import eventually, with_customer
from cm_testing import scenario
from test_dialer_calls import DIALER, no_wrap_up, run_campaign, zone_at

from callisto_devkit.issuer import TestIssuer
from callisto_devkit.processes import ManagedProcess, free_media_port, free_port
from callisto_devkit.pytest_plugin import spawn_service, wait_http
from callisto_devkit.servers import NatsServer, RtpEngine
from callisto_devkit.sipp import start_sipp
from callisto_protocol.calls import CallState, CallStateChanged

pytestmark = [pytest.mark.integration, pytest.mark.fault, pytest.mark.slow]
CONTACTS = 6


def start(nats: NatsServer, database_url: str, name: str, folder: Path) -> tuple[ManagedProcess, str]:
    port = free_port()
    settings = {
        "MODE": "development", "NATS_URL": nats.url, "DATABASE_URL": database_url, "HTTP_PORT": str(port),
        "INSTANCE_ID": name, "LEASE_TTL_S": "1.5", "TICK_S": "0.2",
    }  # fmt: skip
    env = {f"CALLISTO_DIALER_{key}": value for key, value in settings.items()}
    process = spawn_service("callisto_dialer", env, folder / f"{name}.log")
    base = f"http://127.0.0.1:{port}"
    wait_http(f"{base}/readyz", 30, process=process)
    return process, base


async def role(http: httpx.AsyncClient, base: str) -> str:
    try:
        return str((await http.get(f"{base}/readyz", timeout=1)).json()["role"])
    except (httpx.HTTPError, KeyError, ValueError):
        return "unreachable"


async def test_the_standby_dialer_takes_over_mid_campaign_and_dials_no_attempt_twice(
    private_nats: NatsServer, redis_url: str, rtpengine: RtpEngine, token_issuer: TestIssuer,
    postgres_database: str, tmp_path: Path,
) -> None:  # fmt: skip
    token_issuer.service_permissions["dialer"] = DIALER
    boss = token_issuer.bearer("dialer.#", "qm.#", subject="supervisor1")
    day = zone_at(set(range(10, 19)))
    people = [
        {"external_id": f"F-{n}", "numbers": [f"+1212555020{n}"], "time_zone": day} for n in range(CONTACTS)
    ]
    first, first_base = await asyncio.to_thread(start, private_nats, postgres_database, "dialer-a", tmp_path)
    second, second_base = await asyncio.to_thread(
        start, private_nats, postgres_database, "dialer-b", tmp_path
    )
    try:
        async with (
            with_customer(private_nats, redis_url, rtpengine, token_issuer, tmp_path, customers=CONTACTS) as (
                s,
                _,
            ),
            httpx.AsyncClient(timeout=10) as http,
        ):
            await no_wrap_up(s, "emergencies")
            port = free_port()
            await s.register("operator1", port)
            await s.agent_ready("agent-1")
            xml = scenario("agent_hangs_up", tmp_path, RING_MS=300, TALK_MS=1500)
            media = str(free_media_port())
            await start_sipp(xml, tmp_path, "-m", str(CONTACTS), "-p", str(port), "-mp", media)
            roles = {base: await role(http, base) for base in (first_base, second_base)}
            active = next(base for base, r in roles.items() if r == "active")
            standby = next(base for base in roles if base != active)
            http.base_url = httpx.URL(standby)  # any instance serves the API
            await run_campaign(http, boss, people)

            async def attempts() -> list[dict[str, Any]]:
                found: list[dict[str, Any]] = (
                    await http.get("/api/v1/campaigns/calls/attempts", headers=boss)
                ).json()
                return found

            async def ended(count: int) -> bool:
                return sum(1 for a in await attempts() if a["state"] == "ended") >= count

            await eventually(lambda: ended(2), 60)
            (first if active == first_base else second).kill()

            async def took_over() -> bool:
                return await role(http, standby) == "active"

            await eventually(took_over, 15)

            async def settled() -> bool:  # every contact but one reached, no call under way
                log = await attempts()
                reached = sum(1 for a in log if a["outcome"] == "answered")
                return reached >= CONTACTS - 1 and not any(a["state"] == "dialling" for a in log)

            await eventually(settled, 90)
            log = await attempts()
            created = Counter(e.call_id for e in s.of(CallStateChanged) if e.state is CallState.CREATED)
            assert all(created[a["id"]] <= 1 for a in log), created  # no attempt dialled twice
            dialled = [a for a in log if created[a["id"]] == 1]
            assert all(a["outcome"] == "answered" for a in dialled), dialled
            per_contact = Counter(a["external_id"] for a in dialled)
            assert all(n == 1 for n in per_contact.values()), per_contact  # each reached once
            never = [a for a in log if created[a["id"]] == 0]  # written, then the process died
            assert len(never) <= 1 and all(a["state"] != "dialling" for a in never), never
    finally:
        for process in (first, second):
            process.stop()

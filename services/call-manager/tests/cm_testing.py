"""call-manager in-process on real NATS, Redis and rtpengine, with short SIP timers (T1 = 100 ms, as
on a LAN) so that finished transactions are gone within seconds."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx

from callisto_call_manager.app import Parts, build
from callisto_call_manager.settings import CallManagerSettings
from callisto_devkit.issuer import TestIssuer
from callisto_devkit.processes import free_port
from callisto_devkit.pytest_plugin import serve_in_process
from callisto_devkit.servers import RtpEngine
from callisto_devkit.sipp import scenario, start_sipp
from callisto_runtime import Mode

PROMPTS = Path("/tmp/callisto-test-prompts")  # rendered once, reused by later runs (keyed by text)
PERMISSIONS = [
    "auth.sip-credentials.read",
    "qm.#",
    "helpdesk.contacts.read",
    "core-bus.agents.read",
    "core-bus.calls.read",
]


@contextlib.asynccontextmanager
async def call_manager(
    nats_url: str, redis_url: str, rtpengine: RtpEngine, issuer: TestIssuer, **overrides: Any
) -> AsyncIterator[tuple[Parts, httpx.AsyncClient]]:
    issuer.service_permissions["call-manager"] = PERMISSIONS
    issuer.sip_users.update({"operator1": ("callisto", "agent-1"), "operator2": ("callisto", "agent-2")})
    port = free_port()
    settings = CallManagerSettings(**{
        "mode": Mode.DEVELOPMENT, "nats_url": nats_url, "redis_url": redis_url, "http_port": port,
        "sip_port": free_port(), "rtpengine_port": rtpengine.port, "dtmf_port": rtpengine.dtmf_port,
        "prompts_dir": PROMPTS, "keepalive_s": 600, "sip_t1_s": 0.1, "sip_t4_s": 1.0, **overrides,
    })  # fmt: skip
    _, parts, app = build(settings)
    async with serve_in_process(app, port) as base, httpx.AsyncClient(base_url=base) as http:
        for _ in range(300):  # ready and active: a singleton is ready as standby before its lease
            reply = await http.get("/readyz")
            if reply.status_code == 200 and reply.json()["role"] == "active":
                break
            await asyncio.sleep(0.05)
        else:
            raise AssertionError(f"call-manager not active: {reply.text}")
        yield parts, http


# sipp, the independent SIP peer --------------------------------------------------------------------
async def register_with_sipp(
    target: str, user: str, password: str, *, folder: Path, expect: int = 200, expires: int = 300,
    contact: int = 5999,
) -> int:  # fmt: skip
    """sipp registers ``user`` (401, then digest credentials) and expects ``expect``; its exit code."""
    xml = scenario("register", folder, USER=user, PASSWORD=password, CONTACT_PORT=contact, EXPIRES=expires,
                   EXPECT=expect)  # fmt: skip
    run = await start_sipp(xml, folder, target, "-m", "1", "-p", str(free_port()))
    code, _ = await run.result(30)
    return code

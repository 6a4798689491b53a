"""Calls end to end with real peers: sipp as the trunk and as agents' softphones (registered with
digest authentication), call-manager and queue-manager on real NATS and Redis, media through
rtpengine. Nothing on the SIP or media path is simulated."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis.asyncio as redis
from cm_testing import call_manager, scenario, start_sipp
from prometheus_client import CollectorRegistry

from callisto_call_manager.app import Parts
from callisto_devkit.issuer import TestIssuer
from callisto_devkit.processes import free_port
from callisto_devkit.pytest_plugin import serve_in_process
from callisto_devkit.servers import NatsServer, RedisServer, RtpEngine
from callisto_protocol import Envelope, Event
from callisto_protocol.calls import CallStateChanged
from callisto_protocol.queues import ConnectOutcome, QueueCallEvent
from callisto_protocol.telephony import IvrInput, RegistrationChanged
from callisto_queue_manager.app import build as build_queue_manager
from callisto_queue_manager.settings import QueueManagerSettings
from callisto_runtime import Bus, Mode
from callisto_runtime.metrics import BusMetrics

pytestmark = [pytest.mark.integration, pytest.mark.slow]
QUEUE_MANAGER = ["cm.#"]


@dataclass
class Suite:
    cm: Parts
    cm_http: httpx.AsyncClient
    qm_http: httpx.AsyncClient
    issuer: TestIssuer
    rtpengine: RtpEngine
    folder: Path
    events: list[Event] = field(default_factory=list)

    @property
    def sip_target(self) -> str:
        return f"127.0.0.1:{self.cm.sip_port}"

    async def register(
        self, user: str, contact_port: int, *, password: str = "callisto", expect: int = 200
    ) -> int:
        xml = scenario(
            "register", self.folder, USER=user, PASSWORD=password, CONTACT_PORT=contact_port, EXPIRES=300,
            EXPECT=expect,
        )  # fmt: skip
        run = await start_sipp(xml, self.folder, self.sip_target, "-m", "1", "-p", str(free_port()))
        code, errors = await run.result()
        assert code == 0, errors
        return code

    async def agent_ready(self, agent_id: str) -> None:
        supervisor = self.issuer.bearer("qm.#")
        for request in ("login", "ready"):
            reply = await self.qm_http.post(
                f"/api/v1/agents/{agent_id}/state", json={"request": request}, headers=supervisor
            )
            assert reply.status_code == 200, reply.text

    async def calls(self) -> list[dict[str, Any]]:
        reply = await self.cm_http.get("/api/v1/calls", headers=self.issuer.bearer("cm.calls.read"))
        assert reply.status_code == 200, reply.text
        result: list[dict[str, Any]] = reply.json()
        return result

    def of(self, kind: type[Event]) -> list[Any]:
        return [e for e in self.events if isinstance(e, kind)]


async def eventually(check: Callable[[], Awaitable[bool]], timeout: float = 20.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        if await check():
            return
        await asyncio.sleep(0.1)
    raise AssertionError("not met in time")


@pytest.fixture
async def redis_url(redis_server: RedisServer) -> str:
    client = redis.Redis.from_url(redis_server.url)
    await client.flushdb()
    await client.aclose()
    return redis_server.url


@contextlib.asynccontextmanager
async def suite(
    nats: NatsServer, redis_url: str, rtpengine: RtpEngine, issuer: TestIssuer, folder: Path
) -> AsyncIterator[Suite]:
    issuer.service_permissions["queue-manager"] = QUEUE_MANAGER
    qm_port = free_port()
    qm_settings = QueueManagerSettings(
        mode=Mode.DEVELOPMENT, nats_url=nats.url, redis_url=redis_url, http_port=qm_port, lease_ttl_s=1.0
    )
    _, _, qm_app = build_queue_manager(qm_settings)
    watcher = Bus("watcher", "test-watcher", BusMetrics(CollectorRegistry()))
    async with (
        serve_in_process(qm_app, qm_port) as qm_base,
        httpx.AsyncClient(base_url=qm_base) as qm_http,
        call_manager(nats.url, redis_url, rtpengine, issuer) as (parts, cm_http),
    ):
        await eventually(lambda: ready(qm_http))
        found = Suite(parts, cm_http, qm_http, issuer, rtpengine, folder)

        async def keep(event: Event, _: Envelope) -> None:
            found.events.append(event)

        for kind in (CallStateChanged, ConnectOutcome, QueueCallEvent, IvrInput, RegistrationChanged):
            await watcher.subscribe(kind, keep)
        await watcher.start(nats.url)
        await watcher.wait_connected(10)
        try:
            yield found
        finally:
            await watcher.close()


async def ready(http: httpx.AsyncClient) -> bool:
    return (await http.get("/readyz")).status_code == 200


async def media_flowed(rtpengine_port: int, call_id: str, parts: Parts) -> dict[str, int]:
    """Packets rtpengine relayed for the call, per party."""
    reply = await parts.relay.query(call_id)
    counts: dict[str, int] = {}
    for tag, party in reply.get("tags", {}).items():
        packets = 0
        for medium in party.get("medias", []):
            for stream in medium.get("streams", []):
                packets += int(stream.get("stats", {}).get("packets", 0))
        counts[tag] = packets
    return counts


async def test_a_trunk_call_reaches_a_registered_agent_through_the_menu(
    private_nats: NatsServer, redis_url: str, rtpengine: RtpEngine, token_issuer: TestIssuer, tmp_path: Path
) -> None:
    async with suite(private_nats, redis_url, rtpengine, token_issuer, tmp_path) as s:
        agent_port = free_port()
        await s.register("operator1", agent_port)
        await s.agent_ready("agent-1")
        agent = await start_sipp(
            scenario("agent", tmp_path, RING_MS=500), tmp_path, "-m", "1", "-p", str(agent_port),
            "-mp", str(free_port()),
        )  # fmt: skip
        caller = await start_sipp(
            scenario("caller", tmp_path, NUMBER=311, KEY=1, KEY_AT_MS=3500, HOLD_MS=9000),
            tmp_path, s.sip_target, "-m", "1", "-p", str(free_port()), "-mp", str(free_port()),
        )  # fmt: skip

        async def connected() -> bool:
            return any(call["state"] == "connected" for call in await s.calls())

        await eventually(connected)
        call_id = (await s.calls())[0]["call_id"]
        await asyncio.sleep(1.0)
        relayed = await media_flowed(rtpengine.port, call_id, s.cm)
        assert relayed.get("caller", 0) > 20 and relayed.get("agent", 0) > 20, relayed

        for run in (caller, agent):
            code, errors = await run.result()
            assert code == 0, errors
        await eventually(lambda: no_calls(s))
        assert call_id not in await s.cm.relay.calls()  # rtpengine forgot the call
        assert not s.cm.board.live and not s.cm.board.legs and not s.cm.board.ua.dialogs

    states = [e.state.value for e in s.of(CallStateChanged) if e.call_id == call_id]
    assert states == ["created", "ivr", "queued", "ringing", "connected", "ended"], states
    ended = s.of(CallStateChanged)[-1]
    assert (ended.ended_by, ended.queue_id, ended.agent_id) == ("caller", "emergencies", "agent-1")
    assert [(e.step, e.digits) for e in s.of(IvrInput)] == [("menu", "1")]
    assert [e.result.value for e in s.of(ConnectOutcome)] == ["answered"]
    assert [e.registered for e in s.of(RegistrationChanged)] == [True]


async def no_calls(s: Suite) -> bool:
    return not await s.calls() and not s.cm.endpoint.server and not s.cm.endpoint.client

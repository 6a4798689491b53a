"""A call-manager and a queue-manager on real NATS, Redis and rtpengine, with a watcher of their
events: the stage of the end-to-end call tests (sipp, browsers)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import yaml
from cm_testing import call_manager, register_with_sipp, scenario
from prometheus_client import CollectorRegistry

from callisto_call_manager.app import Parts
from callisto_call_manager.settings import DEMO_CONFIG
from callisto_devkit.issuer import TestIssuer
from callisto_devkit.processes import free_media_port, free_port
from callisto_devkit.pytest_plugin import serve_in_process
from callisto_devkit.servers import NatsServer, RtpEngine
from callisto_devkit.sipp import SippRun, start_sipp
from callisto_protocol import Envelope, Event
from callisto_protocol.calls import CallStateChanged
from callisto_protocol.queues import ConnectOutcome, QueueCallEvent
from callisto_protocol.telephony import IvrInput, ListenerChanged, RegistrationChanged
from callisto_queue_manager.app import build as build_queue_manager
from callisto_queue_manager.settings import QueueManagerSettings
from callisto_runtime import Bus, Mode
from callisto_runtime.metrics import BusMetrics

QUEUE_MANAGER = ["cm.#"]
WATCHED = (CallStateChanged, ConnectOutcome, QueueCallEvent, IvrInput, RegistrationChanged, ListenerChanged)


@dataclass
class Suite:
    cm: Parts
    cm_http: httpx.AsyncClient
    qm_http: httpx.AsyncClient
    issuer: TestIssuer
    rtpengine: RtpEngine
    folder: Path
    bus: Bus  # the watcher's: commands with a person's token
    events: list[Event] = field(default_factory=list)

    @property
    def sip_target(self) -> str:
        return f"127.0.0.1:{self.cm.sip_port}"

    async def register(self, user: str, contact_port: int) -> None:
        code = await register_with_sipp(
            self.sip_target, user, "callisto", contact=contact_port, folder=self.folder
        )
        assert code == 0

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


@contextlib.asynccontextmanager
async def suite(
    nats: NatsServer, redis_url: str, rtpengine: RtpEngine, issuer: TestIssuer, folder: Path, **overrides: Any
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
        call_manager(nats.url, redis_url, rtpengine, issuer, **overrides) as (parts, cm_http),
    ):
        await eventually(lambda: ready(qm_http))
        found = Suite(parts, cm_http, qm_http, issuer, rtpengine, folder, watcher)

        async def keep(event: Event, _: Envelope) -> None:
            found.events.append(event)

        for kind in WATCHED:
            await watcher.subscribe(kind, keep)
        await watcher.start(nats.url)
        await watcher.wait_connected(10)
        try:
            yield found
        finally:
            await watcher.close()


async def ready(http: httpx.AsyncClient) -> bool:
    """Ready and active (a singleton is ready as standby, before it holds its lease)."""
    reply = await http.get("/readyz")
    return reply.status_code == 200 and reply.json().get("role") == "active"


async def media_flowed(call_id: str, parts: Parts) -> dict[str, int]:
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


def plan_with(folder: Path, flows: dict[str, Any], *, outbound_port: int | None = None) -> Path:
    """The demo dial plan with extra ``flows`` (flow name -> (number, flow)) and the outbound trunk
    leading to ``outbound_port``."""
    plan = yaml.safe_load(DEMO_CONFIG.read_text())
    if outbound_port is not None:
        plan["trunks"][0]["outbound"]["port"] = outbound_port
    for name, (number, flow) in flows.items():
        plan["numbers"][number] = name
        plan["flows"][name] = flow
    path = folder / "plan.yaml"
    path.write_text(yaml.safe_dump(plan))
    return path


@contextlib.asynccontextmanager
async def with_customer(
    nats: NatsServer, redis_url: str, rtpengine: RtpEngine, issuer: TestIssuer, folder: Path,
    *, flows: dict[str, Any] | None = None, customers: int = 1, ring_ms: int = 300,
    trunk_port: int | None = None, **overrides: Any,
) -> AsyncIterator[tuple[Suite, SippRun | None]]:  # fmt: skip
    """The suite with the demo plan's outbound trunk leading to a customer's phone (sipp, answering
    ``customers`` calls after ``ring_ms``; none with 0: the test starts its own on ``trunk_port``), and
    extra ``flows`` (flow name -> (number, flow))."""
    port = trunk_port or free_port()
    plan = plan_with(folder, flows or {}, outbound_port=port)
    async with suite(nats, redis_url, rtpengine, issuer, folder, config_file=plan, **overrides) as s:
        if customers == 0:
            yield s, None
            return
        xml = scenario("agent", folder, RING_MS=ring_ms)
        yield (
            s,
            await start_sipp(
                xml, folder, "-m", str(customers), "-p", str(port), "-mp", str(free_media_port())
            ),
        )

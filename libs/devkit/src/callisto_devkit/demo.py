"""``callisto demo``: softphones for the demo agents, a burst of calls from a trunk through the IVR,
the queues and the agents, and what became of each call — all with sipp against the running suite.

The agents' phones (sipp) register with the demo SIP password, answer after a short ring, talk and
hang up; the agents are logged in and made ready through queue-manager's API (as supervisor1). The
callers (sipp, as the trunk) dial 311 and choose a menu entry by DTMF, then stay until the agent hangs
up. The report is built from the events on the bus.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import httpx
from prometheus_client import CollectorRegistry

from callisto_devkit.processes import DevkitError, free_media_port, free_port
from callisto_devkit.sipp import SippRun, scenario, start_sipp
from callisto_protocol import Envelope, Event
from callisto_protocol.calls import CallDirection, CallState, CallStateChanged
from callisto_protocol.queues import QueueCallEvent, QueueCallKind
from callisto_runtime import Bus
from callisto_runtime.metrics import BusMetrics

DEMO_USER = "callisto-demo"  # its NATS user watches events only
DEMO_PASSWORD = "callisto"  # the demo accounts' password, also their SIP password
AGENTS = {"operator1": "agent-1", "operator2": "agent-2", "operator3": "agent-3"}
MENU = {"1": "water leak", "3": "anything else"}  # the demo plan's menu entries the callers choose


@dataclass
class CallReport:
    call_id: str
    caller: str = ""
    created: datetime | None = None
    queue_id: str | None = None
    waited_s: float | None = None
    answered_by: str | None = None
    connected: datetime | None = None
    ended: datetime | None = None
    ended_by: str | None = None
    steps: list[str] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        """Ended, and its queue's last word heard when an agent answered it."""
        return self.ended is not None and (self.answered_by is None or self.steps[-1] == "ended")

    @property
    def talked_s(self) -> float | None:
        if self.connected is None or self.ended is None:
            return None
        return (self.ended - self.connected).total_seconds()


class Watch:
    """What the bus says of inbound calls, per call."""

    def __init__(self, expected: int) -> None:
        self.expected = expected
        self.calls: dict[str, CallReport] = {}
        self.done = asyncio.Event()

    async def on_event(self, event: Event, _: Envelope) -> None:
        if isinstance(event, CallStateChanged) and event.direction is CallDirection.INBOUND:
            report = self.calls.setdefault(event.call_id, CallReport(event.call_id))
            report.caller = event.caller
            if event.state is CallState.CREATED:
                report.created = event.since
            elif event.state is CallState.CONNECTED and report.connected is None:
                report.connected = event.since
            elif event.state is CallState.ENDED:
                report.ended, report.ended_by = event.since, event.ended_by
        elif isinstance(event, QueueCallEvent) and event.call_id in self.calls:
            report = self.calls[event.call_id]
            report.queue_id = event.queue_id
            report.steps.append(event.step.value)
            if event.step is QueueCallKind.ANSWERED:
                report.waited_s, report.answered_by = event.waited_s, event.agent_id
        if len(self.calls) >= self.expected and all(r.complete for r in self.calls.values()):
            self.done.set()


async def _register(sip: tuple[str, int], user: str, contact_port: int, folder: Path) -> None:
    xml = scenario("register", folder, CONTACT_PORT=contact_port, EXPIRES=3600, EXPECT=200, USER=user,
                   PASSWORD=DEMO_PASSWORD)  # fmt: skip
    run = await start_sipp(xml, folder, f"{sip[0]}:{sip[1]}", "-m", "1", "-p", str(free_port()))
    code, errors = await run.result(20)
    if code != 0:
        raise DevkitError(f"{user}'s softphone could not register: {errors[-300:]}")


async def _make_ready(queue_manager: str, token: str, agent_id: str) -> None:
    async with httpx.AsyncClient(base_url=queue_manager, timeout=10) as http:
        for request in ("login", "ready"):
            reply = await http.post(
                f"/api/v1/agents/{agent_id}/state",
                json={"request": request},
                headers={"Authorization": f"Bearer {token}"},
            )
            if reply.status_code != 200:
                raise DevkitError(f"{agent_id} could not be made ready: {reply.text}")


async def _login(auth: str, username: str) -> str:
    async with httpx.AsyncClient(timeout=10) as http:
        reply = await http.post(
            f"{auth}/api/v1/token", json={"username": username, "password": DEMO_PASSWORD}
        )
    if reply.status_code != 200:
        raise DevkitError(f"cannot log in as {username}: {reply.text}")
    return str(reply.json()["access_token"])


async def run_demo(
    urls: dict[str, str], sip: tuple[str, int], folder: Path, *, calls: int = 6, talk_ms: int = 4000,
    timeout_s: float = 120.0, nats_password: str | None = None,
) -> list[CallReport]:  # fmt: skip
    """Place ``calls`` calls through the running suite (``urls`` as ``callisto up`` keeps them);
    sipp's files go to ``folder`` (which exists)."""
    watch = Watch(calls)
    bus = Bus(DEMO_USER, f"demo-{free_port()}", BusMetrics(CollectorRegistry()))
    for kind in (CallStateChanged, QueueCallEvent):
        await bus.subscribe(kind, watch.on_event)
    await bus.start(urls["nats"], nats_password)  # a NATS user that only watches events
    phones: list[SippRun] = []
    try:
        await bus.wait_connected(10)
        token = await _login(urls["auth"], "supervisor1")
        for user, agent_id in AGENTS.items():
            port = free_port()
            await _register(sip, user, port, folder)
            xml = scenario("agent_hangs_up", folder, RING_MS=800, TALK_MS=talk_ms)
            phones.append(await start_sipp(xml, folder, "-p", str(port), "-mp", str(free_media_port()), "-aa",
                                           "-timeout", f"{int(timeout_s)}s"))  # fmt: skip
            await _make_ready(urls["queue-manager"], token, agent_id)
        callers = []
        keys = list(MENU)
        for n, key in enumerate(keys):
            share = calls // len(keys) + (1 if n < calls % len(keys) else 0)
            if share:
                xml = scenario("caller_stays", folder, NUMBER=311, CALLER=5551234, KEY=key, KEY_AT_MS=3500)
                callers.append(await start_sipp(
                    xml, folder, f"{sip[0]}:{sip[1]}", "-m", str(share), "-r", "2", "-l", str(share),
                    "-p", str(free_port()), "-mp", str(free_media_port()), "-timeout", f"{int(timeout_s)}s",
                ))  # fmt: skip
        for run in callers:
            await run.result(timeout_s)
        with contextlib.suppress(TimeoutError):  # the last events may take a moment
            await asyncio.wait_for(watch.done.wait(), 15)
    finally:
        for phone in phones:
            if phone.process.returncode is None:
                phone.process.terminate()
            await phone.result(5)
        await bus.close()
    return sorted(watch.calls.values(), key=lambda r: r.created or datetime.max.astimezone())

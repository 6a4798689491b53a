"""snitch under test: in-process, on real NATS, Redis and PostgreSQL; events published as
queue-manager publishes them."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from typing import Any

import httpx
from prometheus_client import CollectorRegistry

from callisto_devkit.processes import free_port
from callisto_devkit.pytest_plugin import serve_in_process
from callisto_protocol.agents import AgentState, AgentStateChanged
from callisto_protocol.queues import QueueCallEvent, QueueCallKind
from callisto_runtime import Bus, Mode
from callisto_runtime.metrics import BusMetrics
from callisto_snitch.app import build
from callisto_snitch.realtime import RealTime
from callisto_snitch.settings import SnitchSettings

START = time.time() - 600  # the test's calls began ten minutes ago (today, unless it is 00:10)


def at(seconds: float) -> datetime:
    return datetime.fromtimestamp(START + seconds, UTC)


def step(
    kind: QueueCallKind, call: str, seconds: float, queue: str = "emergencies", **more: Any
) -> QueueCallEvent:
    return QueueCallEvent(queue_id=queue, step=kind, call_id=call, at=at(seconds), **more)


def agent(agent_id: str, seq: int, state: AgentState, seconds: float, **more: Any) -> AgentStateChanged:
    return AgentStateChanged(
        agent_id=agent_id, seq=seq, state=state, since=at(seconds), name=agent_id.title(),
        queues=["emergencies", "general"], **more,
    )  # fmt: skip


def a_morning() -> list[Any]:
    """Two agents; four callers to emergencies: two answered (6 s and 25 s), one short abandon
    (2 s), one abandon after 40 s; one caller still waiting in general."""
    k, s = QueueCallKind, AgentState
    return [
        agent("agent-1", 0, s.READY, 0),
        agent("agent-2", 0, s.NOT_READY, 0, reason="training"),
        step(k.ENQUEUED, "c1", 10),
        step(k.ANSWERED, "c1", 16, agent_id="agent-1", waited_s=6),
        agent("agent-1", 1, s.ON_CALL, 16, call_id="c1"),
        step(k.ENQUEUED, "c2", 20),
        step(k.ABANDONED, "c2", 22, waited_s=2),
        step(k.ENQUEUED, "c3", 30),
        step(k.ABANDONED, "c3", 70, waited_s=40),
        step(k.ENDED, "c1", 76, agent_id="agent-1"),
        agent("agent-1", 2, s.WRAP_UP, 76, call_id="c1"),
        agent("agent-1", 3, s.READY, 86),
        step(k.ENQUEUED, "c4", 100),
        step(k.ANSWERED, "c4", 125, agent_id="agent-1", waited_s=25),
        agent("agent-1", 4, s.ON_CALL, 125, call_id="c4"),
        step(k.ENQUEUED, "g1", 500, queue="general"),
    ]


@contextlib.asynccontextmanager
async def publisher(nats_url: str) -> AsyncIterator[Bus]:
    bus = Bus("queue-manager", "test", BusMetrics(CollectorRegistry()))
    await bus.start(nats_url)
    await bus.wait_connected(10)
    try:
        yield bus
    finally:
        await bus.close()


@contextlib.asynccontextmanager
async def snitch(
    nats_url: str, redis_url: str, database_url: str, port: int | None = None, **overrides: Any
) -> AsyncIterator[tuple[httpx.AsyncClient, RealTime, str]]:
    port = port or free_port()
    settings = SnitchSettings(
        nats_url=nats_url, http_port=port, redis_url=redis_url, database_url=database_url,
        mode=Mode.DEVELOPMENT, push_interval_s=0.2, **overrides,
    )  # fmt: skip
    _, live, app = build(settings)
    async with serve_in_process(app, port) as base, httpx.AsyncClient(base_url=base, timeout=10) as http:
        for _ in range(400):
            if (await http.get("/readyz")).status_code == 200:
                break
            await asyncio.sleep(0.05)
        yield http, live, base


async def until(check: Callable[[], Any], what: str, timeout: float = 15.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return result
        await asyncio.sleep(0.1)
    raise AssertionError(f"waited {timeout} s for {what}")

"""queue-manager against real NATS and Redis: a call through the ACD with call-manager's side played
on the bus (call-manager comes with its own issue), tokens checked, and a restart that loses nothing."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import redis.asyncio as redis
from prometheus_client import CollectorRegistry

from callisto_devkit.issuer import TestIssuer
from callisto_devkit.processes import free_port
from callisto_devkit.pytest_plugin import serve_in_process
from callisto_devkit.servers import NatsServer, RedisServer
from callisto_protocol import Envelope
from callisto_protocol.calls import CallDirection, CallState, CallStateChanged
from callisto_protocol.help import AcceptHelp, HelpRequestChanged, HelpStatus, RaiseHelp
from callisto_protocol.lists import CallEntry
from callisto_protocol.queues import (
    CallbackAccepted,
    ConnectAccepted,
    ConnectCall,
    ConnectOutcome,
    ConnectResult,
    Enqueue,
    Enqueued,
    QueueCallEvent,
    RequestCallback,
)
from callisto_protocol.telephony import ListCalls, LiveCalls
from callisto_queue_manager.app import build
from callisto_queue_manager.model import QueueConfig
from callisto_queue_manager.settings import QueueManagerSettings
from callisto_queue_manager.store import Store
from callisto_runtime import Bus, Mode, RemoteError, Service
from callisto_runtime.fencing import Fenced
from callisto_runtime.metrics import BusMetrics

pytestmark = pytest.mark.integration
CALL_MANAGER = ["qm.calls.#", "qm.agents.#"]


@contextlib.asynccontextmanager
async def queue_manager(
    nats_url: str, redis_url: str, issuer: TestIssuer, **overrides: Any
) -> AsyncIterator[tuple[httpx.AsyncClient, Service]]:
    port = free_port()
    settings = QueueManagerSettings(
        mode=Mode.DEVELOPMENT, nats_url=nats_url, redis_url=redis_url, http_port=port, lease_ttl_s=1.0,
        **overrides,
    )  # fmt: skip
    service, engine, app = build(settings)
    async with serve_in_process(app, port) as base, httpx.AsyncClient(base_url=base) as http:
        for _ in range(200):
            if engine.loaded and (await http.get("/readyz")).status_code == 200:
                break
            await asyncio.sleep(0.05)
        yield http, service


@contextlib.asynccontextmanager
async def call_manager(nats_url: str, answer: ConnectResult) -> AsyncIterator[tuple[Bus, list[ConnectCall]]]:
    """call-manager's side: accepts every ConnectCall and reports ``answer`` at once."""
    bus = Bus("call-manager", "cm-test", BusMetrics(CollectorRegistry()))
    rung: list[ConnectCall] = []

    async def connect(command: ConnectCall, _: Envelope) -> ConnectAccepted:
        rung.append(command)
        outcome = ConnectOutcome(
            call_id=command.call_id, agent_id=command.agent_id, offer_id=command.offer_id, result=answer
        )
        asyncio.get_running_loop().call_later(0.05, lambda: asyncio.ensure_future(bus.publish(outcome)))
        return ConnectAccepted(call_id=command.call_id, agent_id=command.agent_id)

    await bus.serve(ConnectCall, connect, permission=None)
    await bus.start(nats_url)
    await bus.wait_connected(10)
    try:
        yield bus, rung
    finally:
        await bus.close()


async def eventually(check, timeout: float = 10.0) -> None:  # type: ignore[no-untyped-def]
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        if await check():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("not met in time")


async def test_a_call_is_offered_answered_and_wrapped_up(
    private_nats: NatsServer, redis_url: str, token_issuer: TestIssuer
) -> None:
    token_issuer.service_permissions["queue-manager"] = ["cm.#"]
    operator = token_issuer.bearer("qm.agents.{agent_id}.#", "qm.queues.read", agent_id="agent-2")
    supervisor = token_issuer.bearer("qm.#")
    steps: list[QueueCallEvent] = []

    async def on_step(event: QueueCallEvent, _: Envelope) -> None:
        steps.append(event)

    async with (
        queue_manager(private_nats.url, redis_url, token_issuer) as (http, _),
        call_manager(private_nats.url, ConnectResult.ANSWERED) as (cm, rung),
    ):
        await cm.subscribe(QueueCallEvent, on_step)
        for request in ("login", "ready"):
            reply = await http.post(
                "/api/v1/agents/agent-2/state", json={"request": request}, headers=operator
            )
            assert reply.status_code == 200, reply.text
        assert reply.json()["state"] == "ready"
        other = await http.post("/api/v1/agents/agent-1/state", json={"request": "login"}, headers=operator)
        assert other.status_code == 403  # an operator changes their own agent only
        assert (await http.get("/api/v1/queues")).status_code == 401

        enqueue = Enqueue(call_id="call-1", queue_id="emergencies", caller="+4930111")
        with pytest.raises(RemoteError) as refused:
            await cm.call(enqueue, Enqueued, token=token_issuer.token("qm.agents.#"))
        assert refused.value.error_id == "permission-denied"
        enqueued = await cm.call(enqueue, Enqueued, token=token_issuer.token(*CALL_MANAGER))
        assert (enqueued.position, enqueued.queue_id) == (1, "emergencies")

        async def agent_state(expected: str) -> bool:
            reply = await http.get("/api/v1/agents/agent-2", headers=operator)
            return bool(reply.json()["state"] == expected)

        await eventually(lambda: agent_state("on_call"))
        assert [(c.call_id, c.agent_id) for c in rung] == [("call-1", "agent-2")]
        ended = CallStateChanged(call_id="call-1", seq=9, state=CallState.ENDED, since=datetime.now(UTC))
        await cm.publish(ended)
        await eventually(lambda: agent_state("wrap_up"))
        await eventually(lambda: agent_state("ready"), timeout=10)  # 5 s of wrap-up in the demo queue
        await eventually(lambda: asyncio.sleep(0, result=len(steps) >= 4))
        assert [s.step.value for s in steps] == ["enqueued", "offered", "answered", "ended"]
        stats = (await http.get("/api/v1/queues/emergencies/stats", headers=supervisor)).json()
        assert (stats["waiting"], stats["agents"]["ready"]) == (0, 1)
        bad = await http.put("/api/v1/queues/x", json={"id": "x", "ring_timeout_s": -1}, headers=supervisor)
        assert bad.status_code == 422
        absurd = await http.put(
            "/api/v1/agents/agent-9", json={"id": "agent-9", "skills": {"water": 10**9}}, headers=supervisor
        )
        assert absurd.status_code == 422


async def test_a_restart_keeps_agents_and_waiting_calls(
    private_nats: NatsServer, redis_url: str, token_issuer: TestIssuer
) -> None:
    supervisor = token_issuer.bearer("qm.#")
    async with queue_manager(private_nats.url, redis_url, token_issuer) as (http, service):
        await http.post("/api/v1/agents/agent-3/state", json={"request": "login"}, headers=supervisor)
        await http.post(
            "/api/v1/agents/agent-3/state",
            json={"request": "not_ready", "reason": "training"},
            headers=supervisor,
        )
        for n in range(3):
            await service.bus.call(
                Enqueue(call_id=f"b{n}", queue_id="billing", priority=n % 2),
                Enqueued,
                token=token_issuer.token(*CALL_MANAGER),
            )
        before = (await http.get("/api/v1/queues/billing/calls", headers=supervisor)).json()
        assert [c["call_id"] for c in before] == ["b1", "b0", "b2"]  # priority 1 first
        raised = await http.post("/api/v1/agents/agent-3/help", json={"reason": "advice"}, headers=supervisor)
        assert raised.status_code == 201, raised.text
        later = (datetime.now(UTC) + timedelta(hours=2)).isoformat()
        callback = await http.post(
            "/api/v1/callbacks",
            json={"queue_id": "general", "number": "+4930555", "not_before": later},
            headers=supervisor,
        )
        assert callback.status_code == 201, callback.text
        # Redis restarted empty (reproduced before: queues, agents and profiles stayed missing, and a
        # restart or a takeover then would have lost them): the state is written back from memory
        client = redis.Redis.from_url(redis_url)
        await client.flushdb()
        expected = {b"qm:queues", b"qm:agent-profiles", b"qm:agents", b"qm:calls", b"qm:help", b"qm:epoch"}

        async def written_back() -> bool:
            return expected <= set(await client.keys("qm:*"))

        await eventually(written_back)
        assert await client.hlen("qm:calls") == 4  # three waiting calls and the callback
        await client.aclose()
    async with queue_manager(private_nats.url, redis_url, token_issuer) as (http, _):
        after = (await http.get("/api/v1/queues/billing/calls", headers=supervisor)).json()
        assert [(c["call_id"], c["position"]) for c in after] == [("b1", 1), ("b0", 2), ("b2", 3)]
        agent = (await http.get("/api/v1/agents/agent-3", headers=supervisor)).json()
        assert (agent["state"], agent["reason"]) == ("not_ready", "training")
        (kept,) = (await http.get("/api/v1/help", headers=supervisor)).json()
        assert (kept["request_id"], kept["state"]) == (raised.json()["request_id"], "open")
        (waiting,) = (await http.get("/api/v1/callbacks", headers=supervisor)).json()
        assert (waiting["callback_id"], waiting["status"]) == (callback.json()["callback_id"], "scheduled")


async def test_help_requests_reach_supervisors_are_taken_once_and_escalate(
    private_nats: NatsServer, redis_url: str, token_issuer: TestIssuer
) -> None:
    operator = token_issuer.bearer("qm.agents.{agent_id}.#", agent_id="agent-2")
    supervisor = token_issuer.bearer("qm.#")
    seen: list[HelpRequestChanged] = []

    async def on_help(event: HelpRequestChanged, _: Envelope) -> None:
        seen.append(event)

    async with (
        queue_manager(private_nats.url, redis_url, token_issuer, help_response_s=1.0) as (http, service),
    ):
        await service.bus.subscribe(HelpRequestChanged, on_help)
        await http.post("/api/v1/agents/agent-2/state", json={"request": "login"}, headers=operator)
        not_mine = await http.post("/api/v1/agents/agent-1/help", json={"reason": "x"}, headers=operator)
        assert not_mine.status_code == 403
        empty = await http.post("/api/v1/agents/agent-2/help", json={"reason": ""}, headers=operator)
        assert empty.status_code == 422
        raised = await http.post(
            "/api/v1/agents/agent-2/help", json={"reason": "caller threatens legal action"}, headers=operator
        )
        assert raised.status_code == 201, raised.text
        request_id = raised.json()["request_id"]
        assert (await http.get("/api/v1/help", headers=operator)).status_code == 403
        await eventually(lambda: asyncio.sleep(0, result=any(e.step == "escalated" for e in seen)))
        token = token_issuer.token("qm.help.handle")
        taken = await service.bus.call(AcceptHelp(request_id=request_id, supervisor_id="agent-1"), HelpStatus,
                                       token=token)  # fmt: skip
        assert (taken.request.state.value, taken.request.level) == ("accepted", 2)
        with pytest.raises(RemoteError) as second:
            await service.bus.call(AcceptHelp(request_id=request_id, supervisor_id="agent-3"), HelpStatus,
                                   token=token)  # fmt: skip
        assert second.value.error_id == "help-taken"
        with pytest.raises(RemoteError) as stranger:
            await service.bus.call(RaiseHelp(agent_id="agent-1", reason="x"), HelpStatus,
                                   token=token_issuer.token("qm.agents.agent-2.#"))  # fmt: skip
        assert stranger.value.error_id == "permission-denied"
        closed = await http.post(
            f"/api/v1/help/{request_id}/close", json={"note": "calmed"}, headers=supervisor
        )
        assert closed.json()["state"] == "closed"
        await eventually(lambda: asyncio.sleep(0, result=seen[-1].step == "closed"))
    assert [e.step for e in seen] == ["raised", "escalated", "accepted", "closed"]
    assert {e.agent_id for e in seen} == {"agent-2"}


async def test_callbacks_by_http_and_reconciliation_with_call_managers_live_calls(
    private_nats: NatsServer, redis_url: str, token_issuer: TestIssuer
) -> None:
    """A call queue-manager holds but call-manager no longer runs (its end event lost) is ended when
    queue-manager reconnects; here call-manager's list is played on the bus."""
    token_issuer.service_permissions["queue-manager"] = ["cm.#"]
    supervisor = token_issuer.bearer("qm.#")
    integrator = token_issuer.bearer("qm.callbacks.create")
    async with queue_manager(private_nats.url, redis_url, token_issuer) as (http, service):
        past = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
        expired = await http.post(
            "/api/v1/callbacks", json={"queue_id": "general", "number": "+4930555", "not_after": past},
            headers=integrator,
        )  # fmt: skip
        assert expired.status_code == 422 and expired.json()["error_id"] == "invalid-callback"
        bad = await http.post("/api/v1/callbacks", json={"queue_id": "general", "number": "call me"},
                              headers=integrator)  # fmt: skip
        assert bad.status_code == 422
        unknown = await http.post("/api/v1/callbacks", json={"queue_id": "nope", "number": "+4930555"},
                                  headers=integrator)  # fmt: skip
        assert unknown.status_code == 404
        made = await service.bus.call(
            RequestCallback(queue_id="general", number="+4930555"), CallbackAccepted,
            token=token_issuer.token("qm.callbacks.create"),
        )  # fmt: skip
        assert made.position == 1
        cancelled = await http.delete(f"/api/v1/callbacks/{made.callback_id}", headers=supervisor)
        assert cancelled.status_code == 200 and cancelled.json()["number"] == "+4930555"
        assert (await http.get("/api/v1/callbacks", headers=supervisor)).json() == []

        for call_id in ("kept", "lost"):
            await service.bus.call(Enqueue(call_id=call_id, queue_id="general"), Enqueued,
                                   token=token_issuer.token(*CALL_MANAGER))  # fmt: skip
        cm = Bus("call-manager", "cm-test", BusMetrics(CollectorRegistry()))
        kept = CallEntry(call_id="kept", state=CallState.QUEUED, since=datetime.now(UTC),
                         direction=CallDirection.INBOUND)  # fmt: skip

        async def live_calls(_: ListCalls, __: Envelope) -> LiveCalls:
            return LiveCalls(calls=[kept])

        await cm.serve(ListCalls, live_calls, permission=None)
        await cm.start(private_nats.url)
        await cm.wait_connected(10)
        try:
            await asyncio.sleep(1.5)  # the calls must be older than the question
            await asyncio.to_thread(private_nats.restart)  # the buses reconnect; queue-manager reconciles

            async def only_kept() -> bool:
                calls = (await http.get("/api/v1/queues/general/calls", headers=supervisor)).json()
                return [c["call_id"] for c in calls] == ["kept"]

            await eventually(only_kept, timeout=20)
        finally:
            await cm.close()


async def test_an_event_queue_manager_cannot_read_is_a_dead_letter(
    private_nats: NatsServer, redis_server: RedisServer, token_issuer: TestIssuer
) -> None:
    """A call-state event that does not decode goes to the dead letters at once (with the reason),
    and the consumer goes on with the next."""
    admin = token_issuer.bearer("#")
    async with (
        queue_manager(private_nats.url, f"redis://127.0.0.1:{redis_server.port}/7", token_issuer) as (
            http,
            service,
        ),
        call_manager(private_nats.url, ConnectResult.ANSWERED) as (cm, _),
    ):
        headers = cm.headers(
            CallStateChanged(call_id="x", seq=1, state=CallState.CREATED, since=datetime.now(UTC))
        )
        await cm.nc.jetstream().publish("cc.call.broken.state", b'{"call_id": 42}', headers=headers)
        await cm.publish(
            CallStateChanged(call_id="fine", seq=1, state=CallState.ENDED, since=datetime.now(UTC))
        )

        async def listed() -> list[dict[str, Any]]:
            found = (await http.get("/api/v1/dead-letters", headers=admin)).json()
            return [x for x in found if x["consumer"] == "queue-manager-call-state"]

        await eventually(listed)
        [letter] = await listed()
        assert letter["cause"] == "malformed" and "invalid-message" in letter["reason"]
        consumer = service.bus.consumers["queue-manager-call-state"]
        await eventually(lambda: _true(consumer.handled >= 1))  # the one behind it was handled


async def _true(value: bool) -> bool:
    return value


async def test_a_write_with_an_older_fencing_token_is_refused(redis_url: str) -> None:
    """The successor wrote with a newer lease revision: the old active's writes change nothing."""
    tokens = {"old": 5, "new": 9}
    old = Store(redis_url, fence=lambda: tokens["old"])
    new = Store(redis_url, fence=lambda: tokens["new"])
    nobody = Store(redis_url, fence=lambda: None)
    try:
        await old.save_queue(QueueConfig(id="fenced", name="before"))
        await new.save_queue(QueueConfig(id="fenced", name="successor"))
        with pytest.raises(Fenced):
            await old.save_queue(QueueConfig(id="fenced", name="stale"))
        with pytest.raises(Fenced):
            await nobody.save_queue(QueueConfig(id="fenced", name="standby"))
        queues, _ = await new.config()
        assert [q.name for q in queues if q.id == "fenced"] == ["successor"]
        assert (old.fenced, nobody.fenced) == (1, 1)
    finally:
        for store in (old, new, nobody):
            await store.close()

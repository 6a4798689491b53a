"""The WebSocket gateway against a real NATS server, with real WebSocket clients: who sees what, the
snapshot on connect, sequence numbers, token renewal and expiry, and a client that does not read."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from core_bus_testing import core_bus, eventually
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from callisto_devkit.issuer import TestIssuer
from callisto_devkit.publishers import Publishers
from callisto_devkit.servers import NatsServer
from callisto_protocol.agents import AgentState, AgentStateChanged
from callisto_protocol.calls import CallState, CallStateChanged
from callisto_protocol.dialer import CampaignFigures, PreviewOffered
from callisto_protocol.queues import QueueCallEvent, QueueCallKind
from callisto_protocol.telephony import ListenerChanged, ListenerMode, RegistrationChanged
from callisto_protocol.tickets import TicketChanged

pytestmark = pytest.mark.integration
OPERATOR = ("qm.agents.{agent_id}.#", "qm.queues.read", "cm.calls.{agent_id}.#", "core-bus.agents.read")
SUPERVISOR = ("qm.#", "cm.#", "core-bus.agents.read", "core-bus.calls.read")
NOW = datetime.now(UTC)


def ws_url(http: httpx.AsyncClient) -> str:
    return str(http.base_url).replace("http://", "ws://").rstrip("/") + "/api/v1/ws"


@contextlib.asynccontextmanager
async def signed_in(
    http: httpx.AsyncClient, token: str
) -> AsyncIterator[tuple[ClientConnection, dict[str, Any]]]:
    """A client that authenticated; with the gateway's hello."""
    async with connect(ws_url(http)) as socket:
        await socket.send(json.dumps({"type": "auth", "token": token}))
        hello = json.loads(await socket.recv())
        assert hello["type"] == "hello", hello
        yield socket, hello


async def receive(socket: ClientConnection, count: int) -> list[dict[str, Any]]:
    return [json.loads(await asyncio.wait_for(socket.recv(), 5)) for _ in range(count)]


async def closed_with(socket: ClientConnection, timeout: float = 10) -> int | None:
    """The close code the gateway ends the connection with (messages before it are skipped)."""
    with contextlib.suppress(ConnectionClosed):
        async with asyncio.timeout(timeout):
            while True:
                await socket.recv()
    return socket.close_code


def agent(agent_id: str, seq: int, state: AgentState = AgentState.READY, **more: Any) -> AgentStateChanged:
    return AgentStateChanged(agent_id=agent_id, seq=seq, state=state, since=NOW, **more)


async def test_a_client_must_authenticate_first(private_nats: NatsServer, token_issuer: TestIssuer) -> None:
    async with core_bus(private_nats.url, token_issuer, gateway_auth_timeout_s=0.5) as (http, _):
        async with connect(ws_url(http)) as silent:
            assert await closed_with(silent) == 4401  # nothing said in time
        for first in (
            "not json",
            json.dumps({"type": "hello"}),
            json.dumps({"type": "auth", "token": "x.y.z"}),
        ):
            async with connect(ws_url(http)) as socket:
                await socket.send(first)
                assert await closed_with(socket) == 4401, first
                assert socket.close_reason


async def test_an_operator_sees_their_own_agent_and_calls_a_supervisor_sees_everything(
    private_nats: NatsServer, token_issuer: TestIssuer
) -> None:
    stand_ins = Publishers(private_nats.url)
    async with core_bus(private_nats.url, token_issuer) as (http, _):
        await stand_ins.publish(agent("agent-1", 1, queues=["general"]))
        await stand_ins.publish(agent("agent-2", 1, queues=["billing"]))
        await stand_ins.publish(
            CallStateChanged(call_id="c1", seq=1, state=CallState.CONNECTED, since=NOW, agent_id="agent-1")
        )
        await stand_ins.publish(CallStateChanged(call_id="c2", seq=1, state=CallState.QUEUED, since=NOW))

        async def listed() -> bool:
            return len((await http.get("/api/v1/calls")).json()["calls"]) == 2

        await eventually(listed, what="both calls listed")
        operator = token_issuer.token(*OPERATOR, subject="operator1", agent_id="agent-1", roles=["operator"])
        boss = token_issuer.token(*SUPERVISOR, subject="supervisor1", roles=["supervisor"])
        async with signed_in(http, operator) as (olga, hello), signed_in(http, boss) as (sam, _):
            assert (hello["subject"], hello["agent_id"], hello["roles"]) == (
                "operator1",
                "agent-1",
                ["operator"],
            )
            o_agents, o_calls = await receive(olga, 2)
            assert [a["agent_id"] for a in o_agents["items"]] == ["agent-1"]
            assert [c["call_id"] for c in o_calls["items"]] == ["c1"]
            s_agents, s_calls = await receive(sam, 2)
            assert [a["agent_id"] for a in s_agents["items"]] == ["agent-1", "agent-2"]
            assert [c["call_id"] for c in s_calls["items"]] == ["c1", "c2"]

            others = [
                agent("agent-2", 2, AgentState.NOT_READY, reason="lunch", queues=["billing"]),
                CallStateChanged(call_id="c2", seq=2, state=CallState.RINGING, since=NOW, agent_id="agent-2"),
                QueueCallEvent(queue_id="billing", step=QueueCallKind.ENQUEUED, call_id="c3", at=NOW),
                RegistrationChanged(agent_id="agent-2", username="operator2", registered=False),
                ListenerChanged(
                    call_id="c1",
                    listener_id="l1",
                    username="supervisor1",
                    mode=ListenerMode.LISTENING,
                    by="supervisor1",
                ),
            ]
            own = [
                QueueCallEvent(queue_id="general", step=QueueCallKind.ENQUEUED, call_id="c4", at=NOW),
                CallStateChanged(call_id="c1", seq=2, state=CallState.HELD, since=NOW, agent_id="agent-1"),
                agent("agent-1", 2, AgentState.ON_CALL, call_id="c1", queues=["general"]),  # the last one
            ]
            for event in [*others, *own]:
                await stand_ins.publish(event)
            seen_by_olga = await receive(olga, len(own))
            # one stream's events keep their order; events of different streams may interleave
            assert sorted((m["stream"], m["seq"]) for m in seen_by_olga) == [
                ("agents", 1),
                ("calls", 1),
                ("queues", 1),
            ]
            assert [m["event"]["state"] for m in seen_by_olga if m["stream"] == "agents"] == ["on_call"]
            seen_by_sam = await receive(sam, len(others) + len(own))
            streams = sorted((m["stream"], m["seq"]) for m in seen_by_sam)
            assert streams == [
                ("agents", 1), ("agents", 2), ("calls", 1), ("calls", 2), ("phones", 1), ("queues", 1),
                ("queues", 2), ("supervision", 1),
            ]  # fmt: skip
            assert [m["event"]["agent_id"] for m in seen_by_sam if m["stream"] == "agents"] == [
                "agent-2",
                "agent-1",
            ]
            with pytest.raises(TimeoutError):  # nothing of agent-2's ever reached the operator
                await asyncio.wait_for(olga.recv(), 0.5)
            # c1 is transferred to agent-2: Olga is told once that it left her, then nothing of it
            for seq, state in ((3, CallState.RINGING), (4, CallState.CONNECTED)):
                moved = CallStateChanged(call_id="c1", seq=seq, state=state, since=NOW, agent_id="agent-2")
                await stand_ins.publish(moved)
            (left,) = await receive(olga, 1)
            assert (left["event"]["call_id"], left["event"]["state"], left["seq"]) == ("c1", "ringing", 2)
            with pytest.raises(TimeoutError):
                await asyncio.wait_for(olga.recv(), 0.5)
    await stand_ins.close()


async def test_a_token_is_renewed_on_the_socket_and_an_expired_one_ends_it(
    private_nats: NatsServer, token_issuer: TestIssuer
) -> None:
    async with core_bus(private_nats.url, token_issuer) as (http, _):
        brief = token_issuer.token(*OPERATOR, subject="operator1", agent_id="agent-1", ttl_s=2)
        async with signed_in(http, brief) as (lapsing, _):
            assert await closed_with(lapsing) == 4401
        brief = token_issuer.token(*OPERATOR, subject="operator1", agent_id="agent-1", ttl_s=2)  # anew
        async with signed_in(http, brief) as (renewing, hello), signed_in(http, brief) as (hijacked, _):
            fresh = token_issuer.token(*OPERATOR, subject="operator1", agent_id="agent-1", ttl_s=300)
            await renewing.send(json.dumps({"type": "auth", "token": fresh}))
            (renewed,) = [m for m in await receive(renewing, 3) if m["type"] == "renewed"]
            assert renewed["expires_at"] > hello["expires_at"]
            stranger = token_issuer.token(*OPERATOR, subject="operator2", agent_id="agent-2")
            await hijacked.send(json.dumps({"type": "auth", "token": stranger}))
            assert await closed_with(hijacked) == 4403
            await eventually(lambda: time.time() > hello["expires_at"] + 1, what="the first token expired")
            stand_ins = Publishers(private_nats.url)
            await stand_ins.publish(agent("agent-1", 5))
            (event,) = await receive(renewing, 1)
            assert event["event"]["seq"] == 5  # still served after the first token's end
            await stand_ins.close()


async def test_a_client_that_does_not_read_is_dropped_and_the_others_go_on(
    private_nats: NatsServer, token_issuer: TestIssuer
) -> None:
    stand_ins = Publishers(private_nats.url)
    boss = token_issuer.token(*SUPERVISOR, subject="supervisor1")
    queues = [f"queue-{n:04d}" for n in range(400)]  # a large event: about 6 KB
    async with (
        core_bus(private_nats.url, token_issuer, gateway_queue_limit=100) as (http, _),
        signed_in(http, boss) as (stuck, _),
        signed_in(http, boss) as (reader, _),
    ):
        await receive(stuck, 2)
        await receive(reader, 2)
        received: list[int] = []

        async def read() -> None:
            while True:
                received.append(json.loads(await reader.recv())["seq"])

        reading = asyncio.create_task(read())

        async def dropped() -> bool:
            metrics = (await http.get("/metrics")).text
            return 'callisto_gateway_closed_total{reason="slow"} 1.0' in metrics

        sent = 0
        while not await dropped():
            assert sent < 20_000, "the client that does not read was never dropped"
            for _ in range(50):
                sent += 1
                await stand_ins.publish(agent("agent-9", sent, queues=queues))
            await eventually(lambda n=sent: len(received) == n, what="the reading client keeps up")
        reading.cancel()
        assert received == list(range(1, sent + 1))  # all of them, in order
        assert await closed_with(stuck) == 1013
    await stand_ins.close()


async def test_ticket_changes_reach_who_reads_every_ticket_and_the_assigned_operator(
    private_nats: NatsServer, token_issuer: TestIssuer
) -> None:
    stand_ins = Publishers(private_nats.url)
    async with core_bus(private_nats.url, token_issuer) as (http, _):
        operator = token_issuer.token(
            *OPERATOR, "helpdesk.agents.{agent_id}.tickets.#", subject="operator1", agent_id="agent-1"
        )
        desk = token_issuer.token("helpdesk.tickets.read", subject="supervisor1")
        async with signed_in(http, operator) as (olga, _), signed_in(http, desk) as (sam, _):
            await receive(olga, 2)  # the snapshots
            await receive(sam, 2)
            for n, assignee in enumerate(("agent-2", "agent-1", None), start=1):
                await stand_ins.publish(
                    TicketChanged(
                        ticket_id=f"t{n}", number=1000 + n, action="assign", state="assigned", priority=3,
                        department="triage", assignee=assignee, actor="supervisor1",
                    )
                )  # fmt: skip
            told = await receive(sam, 3)
            assert [(m["stream"], m["event"]["ticket_id"]) for m in told] == [
                ("tickets", "t1"), ("tickets", "t2"), ("tickets", "t3")
            ]  # fmt: skip
            (mine,) = await receive(olga, 1)
            assert (mine["event"]["ticket_id"], mine["seq"]) == ("t2", 1)
            with pytest.raises(TimeoutError):  # another agent's and nobody's tickets are not hers
                await asyncio.wait_for(olga.recv(), 0.5)
    await stand_ins.close()


async def test_a_preview_card_reaches_its_agent_and_campaign_figures_the_supervisors(
    private_nats: NatsServer, token_issuer: TestIssuer
) -> None:
    stand_ins = Publishers(private_nats.url)
    async with core_bus(private_nats.url, token_issuer) as (http, _):
        operator = token_issuer.token(
            *OPERATOR, "dialer.agents.{agent_id}.#", subject="operator1", agent_id="agent-1"
        )
        boss = token_issuer.token("dialer.#", subject="supervisor1")
        async with signed_in(http, operator) as (olga, _), signed_in(http, boss) as (sam, _):
            await receive(olga, 2)  # the snapshots
            await receive(sam, 2)
            for agent_id in ("agent-2", "agent-1"):
                await stand_ins.publish(
                    PreviewOffered(
                        agent_id=agent_id, attempt_id=f"dl-{agent_id}", campaign_id="debtors",
                        external_id="A-1", number="+74951234567",
                    )
                )  # fmt: skip
            await stand_ins.publish(
                CampaignFigures(
                    campaign_id="debtors", at=datetime.now(UTC), dialled=10, answered=4, abandoned=0,
                    abandon_limit=0.03, ringing=2, waiting=0, agents=3, ready=1, dial_level=0.67,
                    remaining=90,
                )
            )  # fmt: skip
            told = await receive(sam, 3)
            assert [(m["stream"], m["event"].get("agent_id")) for m in told] == [
                ("previews", "agent-2"), ("previews", "agent-1"), ("campaigns", None),
            ]  # fmt: skip
            (card,) = await receive(olga, 1)
            assert (card["stream"], card["event"]["attempt_id"]) == ("previews", "dl-agent-1")
            with pytest.raises(TimeoutError):  # another agent's card and the figures are not hers
                await asyncio.wait_for(olga.recv(), 0.5)
    await stand_ins.close()

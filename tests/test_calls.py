"""Calls end to end with real peers: sipp as the trunk and as agents' softphones (registered with
digest authentication), call-manager and queue-manager on real NATS and Redis, media through
rtpengine. Nothing on the SIP or media path is simulated."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
from bus_testing import connected_bus
from calls_testing import Suite, eventually, media_flowed, plan_with, suite, with_customer
from cm_testing import scenario
from helpdesk_testing import helpdesk

from callisto_devkit.issuer import TestIssuer
from callisto_devkit.processes import free_media_port, free_port
from callisto_devkit.servers import NatsServer, RtpEngine
from callisto_devkit.sipp import SippRun, start_sipp
from callisto_protocol.calls import CallStateChanged
from callisto_protocol.queues import ConnectOutcome, Dequeue, Dequeued, QueueCallEvent, QueueCallKind
from callisto_protocol.telephony import CallControlled, HangupCall, IvrInput, RegistrationChanged
from callisto_runtime import RemoteError

pytestmark = [pytest.mark.integration, pytest.mark.slow]


async def test_a_trunk_call_reaches_a_registered_agent_through_the_menu(
    private_nats: NatsServer, redis_url: str, rtpengine: RtpEngine, token_issuer: TestIssuer, tmp_path: Path
) -> None:
    async with suite(private_nats, redis_url, rtpengine, token_issuer, tmp_path) as s:
        agent_port = free_port()
        await s.register("operator1", agent_port)
        await s.agent_ready("agent-1")
        agent = await start_sipp(
            scenario("agent", tmp_path, RING_MS=500), tmp_path, "-m", "1", "-p", str(agent_port),
            "-mp", str(free_media_port()),
        )  # fmt: skip
        caller = await start_sipp(
            scenario("caller", tmp_path, NUMBER=311, KEY=1, KEY_AT_MS=3500, HOLD_MS=9000),
            tmp_path, s.sip_target, "-m", "1", "-p", str(free_port()), "-mp", str(free_media_port()),
        )  # fmt: skip

        async def connected() -> bool:
            return any(call["state"] == "connected" for call in await s.calls())

        await eventually(connected)
        call_id = (await s.calls())[0]["call_id"]
        await asyncio.sleep(1.0)
        relayed = await media_flowed(call_id, s.cm)
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


def states_of(s: Suite, call_id: str) -> list[str]:
    return [e.state.value for e in s.of(CallStateChanged) if e.call_id == call_id]


async def agent_phone(s: Suite, user: str, agent_id: str, name: str, **values: object) -> SippRun:
    port = free_port()
    await s.register(user, port)
    await s.agent_ready(agent_id)
    xml = scenario(name, s.folder, **{"RING_MS": 300, "TALK_MS": 1500, **values})
    return await start_sipp(xml, s.folder, "-m", "1", "-p", str(port), "-mp", str(free_media_port()))


async def call_in(
    s: Suite,
    name: str = "caller",
    *,
    key: int = 1,
    hold_ms: int = 8000,
    caller: str = "5551234",
    key_at_ms: int = 3500,
) -> SippRun:
    xml = scenario(name, s.folder, NUMBER=311, CALLER=caller, KEY=key, KEY_AT_MS=key_at_ms, HOLD_MS=hold_ms)
    return await start_sipp(
        xml, s.folder, s.sip_target, "-m", "1", "-p", str(free_port()), "-mp", str(free_media_port())
    )


async def finished(*runs: SippRun) -> None:
    for run in runs:
        code, errors = await run.result()
        assert code == 0, errors


async def test_a_busy_agent_is_passed_over_and_the_next_one_answers(
    private_nats: NatsServer, redis_url: str, rtpengine: RtpEngine, token_issuer: TestIssuer, tmp_path: Path
) -> None:
    async with suite(private_nats, redis_url, rtpengine, token_issuer, tmp_path) as s:
        busy = await agent_phone(s, "operator1", "agent-1", "agent_busy")
        await asyncio.sleep(0.2)  # agent-1 has been idle longest: the first offer is theirs
        answers = await agent_phone(s, "operator2", "agent-2", "agent")
        caller = await call_in(s)
        await finished(caller, busy, answers)
        await eventually(lambda: no_calls(s))
    outcomes = [(e.agent_id, e.result.value) for e in s.of(ConnectOutcome)]
    assert outcomes == [("agent-1", "busy"), ("agent-2", "answered")]
    call_id = s.of(ConnectOutcome)[0].call_id
    assert states_of(s, call_id) == [
        "created",
        "ivr",
        "queued",
        "ringing",
        "queued",
        "ringing",
        "connected",
        "ended",
    ]


async def test_the_agent_hangs_up_and_a_caller_gives_up_while_queued(
    private_nats: NatsServer, redis_url: str, rtpengine: RtpEngine, token_issuer: TestIssuer, tmp_path: Path
) -> None:
    async with suite(private_nats, redis_url, rtpengine, token_issuer, tmp_path) as s:
        agent = await agent_phone(s, "operator1", "agent-1", "agent_hangs_up")
        caller = await call_in(s, "caller_stays")
        await finished(caller, agent)
        await eventually(lambda: no_calls(s))
        first = s.of(CallStateChanged)[-1]
        assert (first.state.value, first.ended_by) == ("ended", "agent")

        # agent-1 takes a break; nobody else is ready: the caller waits, then hangs up
        async def on_break() -> bool:
            reply = await s.qm_http.post(
                "/api/v1/agents/agent-1/state", json={"request": "not_ready", "reason": "break"},
                headers=s.issuer.bearer("qm.#"),
            )  # fmt: skip
            return reply.status_code == 200

        await eventually(on_break)
        impatient = await call_in(s, hold_ms=2500)
        await finished(impatient)
        await eventually(lambda: no_calls(s))
    second = [e for e in s.of(CallStateChanged) if e.call_id != first.call_id]
    assert [e.state.value for e in second] == ["created", "ivr", "queued", "ended"]
    assert second[-1].ended_by == "caller"
    steps = [e.step.value for e in s.of(QueueCallEvent) if e.call_id == second[-1].call_id]
    assert steps[0] == "enqueued" and steps[-1] == "abandoned", steps


async def test_hold_resume_and_blind_transfer_to_another_agent(
    private_nats: NatsServer, redis_url: str, rtpengine: RtpEngine, token_issuer: TestIssuer, tmp_path: Path
) -> None:
    async with suite(private_nats, redis_url, rtpengine, token_issuer, tmp_path) as s:
        first = await agent_phone(s, "operator1", "agent-1", "agent")
        caller = await call_in(s, hold_ms=14000)

        async def state_is(wanted: str, agent_id: str = "agent-1") -> bool:
            calls = await s.calls()
            return bool(calls) and (calls[0]["state"], calls[0]["agent_id"]) == (wanted, agent_id)

        await eventually(lambda: state_is("connected"))
        call_id = (await s.calls())[0]["call_id"]
        control = s.issuer.bearer("cm.calls.control")
        assert (await s.cm_http.post(f"/api/v1/calls/{call_id}/hold", headers=control)).json()[
            "state"
        ] == "held"
        again = await s.cm_http.post(f"/api/v1/calls/{call_id}/hold", headers=control)
        assert again.json()["state"] == "held"  # a repeated command changes nothing
        await asyncio.sleep(1.0)
        assert (await s.cm_http.post(f"/api/v1/calls/{call_id}/unhold", headers=control)).json()["state"] == (
            "connected"
        )
        record = s.issuer.bearer("cm.calls.record")  # rtpengine refused "pause recording" before (502)
        for action, shown in (("start", "on"), ("pause", "paused"), ("resume", "on"), ("stop", "off")):
            reply = await s.cm_http.post(
                f"/api/v1/calls/{call_id}/recording", json={"action": action}, headers=record
            )
            assert (reply.status_code, reply.json()["recording"]) == (200, shown), reply.text
        refused = await s.cm_http.post(
            f"/api/v1/calls/{call_id}/transfer",
            json={"target_kind": "agent", "target": "agent-3"},
            headers=control,
        )
        assert refused.status_code == 409 and refused.json()["error_id"] == "agent-not-registered"
        second = await agent_phone(s, "operator2", "agent-2", "agent")
        moved = await s.cm_http.post(
            f"/api/v1/calls/{call_id}/transfer",
            json={"target_kind": "agent", "target": "agent-2"},
            headers=control,
        )
        assert moved.status_code == 200, moved.text
        await eventually(lambda: state_is("connected", "agent-2"))
        no_rights = await s.cm_http.post(
            f"/api/v1/calls/{call_id}/hold", headers=s.issuer.bearer("cm.calls.read")
        )
        assert no_rights.status_code == 403
        await finished(caller, first, second)
        await eventually(lambda: no_calls(s))

        async def agent_one_released() -> bool:
            reply = await s.qm_http.get("/api/v1/agents/agent-1", headers=s.issuer.bearer("qm.#"))
            return reply.json()["state"] in ("wrap_up", "ready")

        await eventually(agent_one_released)  # the ACD saw agent-1's part of the call end
    assert states_of(s, call_id) == ["created", "ivr", "queued", "ringing", "connected", "held", "connected",
                                     "ringing", "connected", "ended"]  # fmt: skip


async def test_every_call_completes_with_ten_percent_loss_on_both_legs(
    private_nats: NatsServer, redis_url: str, rtpengine: RtpEngine, token_issuer: TestIssuer, tmp_path: Path
) -> None:
    calls = 4
    async with suite(private_nats, redis_url, rtpengine, token_issuer, tmp_path) as s:
        # no wrap-up: each caller holds 8 s, and the one agent must be free for the next one in time
        supervisor = s.issuer.bearer("qm.#")
        billing = next(
            q
            for q in (await s.qm_http.get("/api/v1/queues", headers=supervisor)).json()
            if q["id"] == "billing"
        )
        changed = await s.qm_http.put(
            "/api/v1/queues/billing", json={**billing, "wrap_up_s": 0}, headers=supervisor
        )
        assert changed.status_code == 200, changed.text
        port = free_port()
        await s.register("operator1", port)
        await s.agent_ready("agent-1")
        agent_xml = scenario("agent", tmp_path, RING_MS=200)
        # four calls one after another take about a minute, longer under load: beyond sipp's default 60 s
        agent = await start_sipp(
            agent_xml, tmp_path, "-m", str(calls), "-p", str(port), "-mp", str(free_media_port()),
            "-lost", "10", "-timeout", "170s",
        )  # fmt: skip
        caller_xml = scenario("caller", tmp_path, NUMBER=312, KEY=5, KEY_AT_MS=100, HOLD_MS=8000)
        caller = await start_sipp(
            caller_xml, tmp_path, s.sip_target, "-m", str(calls), "-l", "1", "-p", str(free_port()),
            "-mp", str(free_media_port()), "-lost", "10", "-timeout", "170s",
        )  # fmt: skip
        code, errors = await caller.result(180)
        assert code == 0, errors
        code, errors = await agent.result(60)
        assert code == 0, errors
        await eventually(lambda: no_calls(s), 40)
        assert not s.cm.board.ua.dialogs and not await s.cm.relay.calls()
    ended = [e for e in s.of(CallStateChanged) if e.state.value == "ended"]
    assert len(ended) == calls and {e.ended_by for e in ended} == {"caller"}


async def test_an_outbound_call_answered_by_the_customer_goes_to_a_queue(
    private_nats: NatsServer, redis_url: str, rtpengine: RtpEngine, token_issuer: TestIssuer, tmp_path: Path
) -> None:
    async with with_customer(private_nats, redis_url, rtpengine, token_issuer, tmp_path) as (s, customer):
        agent = await agent_phone(s, "operator1", "agent-1", "agent_hangs_up", TALK_MS=2000)
        placed = await s.cm_http.post(
            "/api/v1/calls", json={"number": "5550100", "queue_id": "emergencies"},
            headers=s.issuer.bearer("cm.calls.originate"),
        )  # fmt: skip
        assert placed.status_code == 200, placed.text
        await finished(customer, agent)
        await eventually(lambda: no_calls(s))
    call_id = placed.json()["call_id"]
    assert states_of(s, call_id) == ["created", "ringing", "queued", "ringing", "connected", "ended"]
    assert [(e.agent_id, e.result.value) for e in s.of(ConnectOutcome)] == [("agent-1", "answered")]


async def test_an_answered_outbound_call_no_agent_takes_hears_the_message_then_is_cleared(
    private_nats: NatsServer, redis_url: str, rtpengine: RtpEngine, token_issuer: TestIssuer, tmp_path: Path
) -> None:
    """What the dialer does with a customer who answered when no agent is free: out of the queue, the
    message said, the line cleared once it is over."""
    async with with_customer(private_nats, redis_url, rtpengine, token_issuer, tmp_path) as (s, customer):
        placed = await s.cm_http.post(
            "/api/v1/calls", json={"number": "5550100", "queue_id": "emergencies"},
            headers=s.issuer.bearer("cm.calls.originate"),
        )  # fmt: skip
        assert placed.status_code == 200, placed.text
        call_id = placed.json()["call_id"]
        await eventually(lambda: _queued(s, call_id))
        token = token_issuer.token("qm.calls.dequeue", "cm.calls.control", subject="svc-dialer")
        async with connected_bus(private_nats.url, "dialer", "abandon-test") as bus:
            with pytest.raises(RemoteError) as unknown:
                await bus.call(
                    HangupCall(call_id=call_id, prompt="no-such-prompt"), CallControlled, token=token
                )
            assert unknown.value.error_id == "unknown-prompt"
            left = await bus.call(
                Dequeue(call_id=call_id, reason="abandoned"), Dequeued, token=token, timeout=5
            )
            assert left.queue_id == "emergencies"
            started = time.monotonic()
            await bus.call(
                HangupCall(call_id=call_id, prompt="outbound-abandoned"), CallControlled, token=token
            )
        await finished(customer)  # the BYE came, after the message
        assert time.monotonic() - started > 2.5  # the message lasts about four seconds
        await eventually(lambda: no_calls(s))
    assert states_of(s, call_id) == ["created", "ringing", "queued", "ended"]
    assert s.of(CallStateChanged)[-1].ended_by == "system"


async def _queued(s: Suite, call_id: str) -> bool:
    return "queued" in states_of(s, call_id)


async def test_click_to_call_rings_the_agent_then_the_customer_through_the_trunk(
    private_nats: NatsServer, redis_url: str, rtpengine: RtpEngine, token_issuer: TestIssuer, tmp_path: Path
) -> None:
    async with with_customer(private_nats, redis_url, rtpengine, token_issuer, tmp_path) as (s, customer):
        agent = await agent_phone(s, "operator1", "agent-1", "agent_hangs_up", TALK_MS=3000)
        click = s.issuer.bearer("cm.calls.originate")
        refused = await s.cm_http.post(
            "/api/v1/calls", json={"number": "5550100", "agent_id": "agent-3"}, headers=click
        )
        assert refused.status_code == 409 and refused.json()["error_id"] == "agent-not-registered"
        bad = await s.cm_http.post("/api/v1/calls", json={"number": "55x"}, headers=click)
        assert bad.status_code == 422
        placed = await s.cm_http.post(
            "/api/v1/calls",
            json={"number": "5550100", "agent_id": "agent-1", "caller_id": "311"},
            headers=click,
        )
        assert placed.status_code == 200, placed.text
        call_id = placed.json()["call_id"]

        async def both_talking() -> bool:
            calls = await s.calls()
            return (
                bool(calls)
                and calls[0]["state"] == "connected"
                and s.cm.board.live[call_id].caller is not None
            )

        await eventually(both_talking)
        await asyncio.sleep(1.0)
        relayed = await media_flowed(call_id, s.cm)
        assert relayed.get("caller", 0) > 20 and relayed.get("agent", 0) > 20, relayed
        await finished(agent, customer)
        await eventually(lambda: no_calls(s))
    assert states_of(s, call_id) == ["created", "ringing", "connected", "ringing", "connected", "ended"]
    ended = s.of(CallStateChanged)[-1]
    assert (ended.direction.value, ended.ended_by, ended.dialled) == ("outbound", "agent", "5550100")


async def test_a_waiting_caller_leaves_their_number_and_is_called_back_agent_first(
    private_nats: NatsServer, redis_url: str, rtpengine: RtpEngine, token_issuer: TestIssuer, tmp_path: Path
) -> None:
    flow = {"start": "q", "steps": {"q": {"queue": "general", "announce": False, "callback": {"after_s": 0}}}}
    async with with_customer(
        private_nats, redis_url, rtpengine, token_issuer, tmp_path, flows={"callme": ("313", flow)}
    ) as (s, customer):
        xml = scenario("caller_stays", tmp_path, NUMBER=313, CALLER=5551234, KEY=1, KEY_AT_MS=4000)
        caller = await start_sipp(
            xml, tmp_path, s.sip_target, "-m", "1", "-p", str(free_port()), "-mp", str(free_media_port())
        )
        await finished(caller)  # pressed 1 during the offer, heard the confirmation, got a BYE
        voice_call = s.of(CallStateChanged)[0].call_id
        left = [e for e in s.of(QueueCallEvent) if e.call_id == voice_call]
        assert [e.step for e in left] == [QueueCallKind.ENQUEUED, QueueCallKind.CALLBACK]
        callback_id = left[-1].target
        listed = await s.qm_http.get("/api/v1/callbacks", headers=s.issuer.bearer("qm.queues.read"))
        assert [(c["callback_id"], c["number"], c["status"]) for c in listed.json()] == [
            (callback_id, "5551234", "waiting")
        ]
        agent = await agent_phone(s, "operator1", "agent-1", "agent_hangs_up", TALK_MS=3000)
        await finished(agent, customer)
        await eventually(lambda: no_calls(s))
        listed = await s.qm_http.get("/api/v1/callbacks", headers=s.issuer.bearer("qm.queues.read"))
        assert listed.json() == []
    steps = [(e.step, e.agent_id) for e in s.of(QueueCallEvent) if e.call_id == callback_id]
    assert steps == [
        (QueueCallKind.ENQUEUED, None),
        (QueueCallKind.OFFERED, "agent-1"),
        (QueueCallKind.ANSWERED, "agent-1"),
        (QueueCallKind.ENDED, "agent-1"),
    ]
    (attempt,) = {e.call_id for e in s.of(CallStateChanged)} - {voice_call}
    assert states_of(s, attempt) == ["created", "ringing", "connected", "ringing", "connected", "ended"]
    ended = s.of(CallStateChanged)[-1]
    assert (ended.direction.value, ended.dialled, ended.ended_by) == ("outbound", "5551234", "agent")
    assert [e.result.value for e in s.of(ConnectOutcome)] == ["answered"]


async def test_ring_all_rings_every_ready_agent_and_the_first_to_answer_takes_the_call(
    private_nats: NatsServer, redis_url: str, rtpengine: RtpEngine, token_issuer: TestIssuer, tmp_path: Path
) -> None:
    flow = {"start": "q", "steps": {"q": {"queue": "everyone", "announce": False}}}
    plan = plan_with(tmp_path, {"ringall": ("314", flow)})
    async with suite(private_nats, redis_url, rtpengine, token_issuer, tmp_path, config_file=plan) as s:
        queue = {"id": "everyone", "strategy": "ring_all", "ring_timeout_s": 20, "wrap_up_s": 0}
        made = await s.qm_http.put("/api/v1/queues/everyone", json=queue, headers=s.issuer.bearer("qm.#"))
        assert made.status_code == 200, made.text
        slow = await agent_phone(s, "operator1", "agent-1", "agent_cancelled")
        quick = await agent_phone(s, "operator2", "agent-2", "agent", RING_MS=1500)
        xml = scenario("caller", tmp_path, NUMBER=314, KEY=5, KEY_AT_MS=100, HOLD_MS=5000)
        caller = await start_sipp(
            xml, tmp_path, s.sip_target, "-m", "1", "-p", str(free_port()), "-mp", str(free_media_port())
        )
        await finished(caller, quick, slow)  # the slow phone got CANCEL once the quick one answered
        await eventually(lambda: no_calls(s))
    offered = [e.agent_id for e in s.of(QueueCallEvent) if e.step is QueueCallKind.OFFERED]
    assert sorted(offered) == ["agent-1", "agent-2"]
    answered = [e.agent_id for e in s.of(QueueCallEvent) if e.step is QueueCallKind.ANSWERED]
    assert answered == ["agent-2"]
    outcomes = {(e.agent_id, e.result.value) for e in s.of(ConnectOutcome)}
    assert ("agent-2", "answered") in outcomes and ("agent-1", "answered") not in outcomes


async def test_a_known_vip_caller_is_recognised_and_offered_to_their_own_agent_first(
    private_nats: NatsServer, redis_url: str, rtpengine: RtpEngine, token_issuer: TestIssuer, tmp_path: Path,
    postgres_database: str,
) -> None:  # fmt: skip
    """helpdesk's demo contact Vera Vasquez (VIP, personal agent agent-1) calls from 8 912 345-67-89."""
    async with (
        suite(private_nats, redis_url, rtpengine, token_issuer, tmp_path) as s,
        helpdesk(private_nats.url, postgres_database) as (desk_http, _, book),
    ):
        assert await book.store.count() == 4
        idle_longest = await agent_phone(s, "operator2", "agent-2", "agent_busy")  # never rung, so never busy
        await asyncio.sleep(0.3)
        own = await agent_phone(s, "operator1", "agent-1", "agent_hangs_up", TALK_MS=3000)
        # the key during the menu, after the longer welcome of a priority customer
        caller = await call_in(s, "caller_stays", key=1, caller="+79123456789", key_at_ms=6500)

        async def talking() -> bool:
            calls = await s.calls()
            return bool(calls) and calls[0]["state"] == "connected"

        await eventually(talking)
        (live,) = await s.calls()
        assert live["agent_id"] == "agent-1" and live["queue_id"] == "emergencies"
        assert live["variables"]["contact_name"] == "Vera Vasquez"
        assert (live["variables"]["vip"], live["variables"]["personal_agent_id"]) == ("yes", "agent-1")
        await finished(own, caller)
        await eventually(lambda: no_calls(s))
        idle_longest.process.terminate()
        await idle_longest.result(5)
        reader = s.issuer.bearer("helpdesk.tickets.read")
        # in wrap-up the operator says how the call ended, from the emergencies queue's codes
        operator = s.issuer.bearer("qm.agents.{agent_id}.#", agent_id="agent-1", subject="person-olga")
        wrap_up = "/api/v1/agents/agent-1/wrap-up"
        made_up = await s.qm_http.post(
            wrap_up, json={"call_id": live["call_id"], "disposition": "pizza"}, headers=operator
        )
        assert made_up.status_code == 422 and made_up.json()["error_id"] == "unknown-code"
        said = {"call_id": live["call_id"], "disposition": "crew_sent", "note": "burst main on Elm St"}
        disposed = await s.qm_http.post(wrap_up, json=said, headers=operator)
        assert disposed.status_code == 200, disposed.text
        assert disposed.json()["by"] == "person-olga"

        async def card() -> bool:  # helpdesk's card of the call, from the events
            reply = await desk_http.get(f"/api/v1/call-cards/{live['call_id']}", headers=reader)
            return (
                reply.status_code == 200
                and reply.json()["outcome"] == "answered"
                and (reply.json()["disposition"] == "crew_sent")
            )

        await eventually(card)
        found = (await desk_http.get(f"/api/v1/call-cards/{live['call_id']}", headers=reader)).json()
        assert (found["number_e164"], found["queue_id"], found["agent_id"]) == (
            "+79123456789",
            "emergencies",
            "agent-1",
        )
        assert found["ivr"] == {"vip-menu": "1"} and found["ended_by"] == "agent" and found["talk_s"] >= 2
        assert found["wrap_up_note"] == "burst main on Elm St"
    (enqueued,) = [e for e in s.of(QueueCallEvent) if e.step is QueueCallKind.ENQUEUED]
    assert (enqueued.queue_id, enqueued.priority) == ("emergencies", 90)
    assert [e.agent_id for e in s.of(QueueCallEvent) if e.step is QueueCallKind.OFFERED] == ["agent-1"]


async def test_callers_who_hang_up_before_the_answer_leave_nothing_behind(
    private_nats: NatsServer, redis_url: str, rtpengine: RtpEngine, token_issuer: TestIssuer, tmp_path: Path
) -> None:
    async with suite(private_nats, redis_url, rtpengine, token_issuer, tmp_path) as s:
        xml = scenario("caller_cancels", tmp_path, NUMBER=311)
        callers = await start_sipp(
            xml,
            tmp_path,
            s.sip_target,
            "-m",
            "5",
            "-r",
            "5",
            "-p",
            str(free_port()),
            "-mp",
            str(free_media_port()),
        )
        await finished(callers)  # every INVITE: 200 to its CANCEL, 487, ACK
        await eventually(lambda: no_calls(s))
        assert not s.cm.board.ua.dialogs and not await s.cm.relay.calls()
    assert s.of(CallStateChanged) == []  # no call was ever created


async def test_click_to_call_from_a_ticket_rings_the_agent_then_the_contact(
    private_nats: NatsServer, redis_url: str, rtpengine: RtpEngine, token_issuer: TestIssuer, tmp_path: Path,
    postgres_database: str,
) -> None:  # fmt: skip
    async with (
        with_customer(private_nats, redis_url, rtpengine, token_issuer, tmp_path) as (s, customer),
        helpdesk(private_nats.url, postgres_database) as (desk_http, _, book),
    ):
        agent = await agent_phone(s, "operator1", "agent-1", "agent_hangs_up", TALK_MS=2500)
        operator = s.issuer.bearer("helpdesk.tickets.#", "cm.calls.{agent_id}.#", agent_id="agent-1")
        vera = (await book.lookup("+79123456789")).contact
        assert vera is not None
        made = await desk_http.post(
            "/api/v1/tickets", json={"subject": "Call back about the leak", "contact_id": vera.contact_id},
            headers=operator,
        )  # fmt: skip
        ticket = made.json()
        # helpdesk acts with the operator's token: another agent's phone is call-manager's refusal
        elsewhere = await desk_http.post(
            f"/api/v1/tickets/{ticket['ticket_id']}/call", json={"agent_id": "agent-2"}, headers=operator
        )
        assert elsewhere.status_code == 403, elsewhere.text
        assert elsewhere.json()["error_id"] == "permission-denied"
        assert not s.cm.board.table.calls
        placed = await desk_http.post(
            f"/api/v1/tickets/{ticket['ticket_id']}/call", json={}, headers=operator
        )
        assert placed.status_code == 200, placed.text
        call_id = placed.json()["call_id"]
        await finished(agent, customer)
        await eventually(lambda: no_calls(s))
        reader = s.issuer.bearer("helpdesk.tickets.read")

        async def card_names_the_ticket() -> bool:
            reply = await desk_http.get(f"/api/v1/call-cards/{call_id}", headers=reader)
            return reply.status_code == 200 and [t["number"] for t in reply.json()["tickets"]] == [
                ticket["number"]
            ]

        await eventually(card_names_the_ticket)
        card = (await desk_http.get(f"/api/v1/call-cards/{call_id}", headers=reader)).json()
        assert (card["direction"], card["contact_id"], card["outcome"]) == (
            "outbound",
            vera.contact_id,
            "answered",
        )
    assert states_of(s, call_id) == ["created", "ringing", "connected", "ringing", "connected", "ended"]
    ended = s.of(CallStateChanged)[-1]
    assert (ended.dialled, ended.ended_by) == ("+79123456789", "agent")

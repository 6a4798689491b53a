"""A progressive campaign end to end: a list pushed over REST, the dialer (in this process, on real
PostgreSQL) pacing by the campaign queue's agents, call-manager ringing the customers through the trunk
(sipp answering), queue-manager giving each answered customer to the agent (sipp): every contact called
once and reached, every attempt in the compliance log with the rules checked; a contact for whom it is
night is not called, one on the do-not-call list neither; a customer no agent can take hears the
message within 2 s."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from calls_testing import Suite, eventually, with_customer
from cm_testing import scenario
from dialer_testing import dialer
from openpyxl import load_workbook
from test_calls import agent_phone, finished, states_of

from callisto_devkit.issuer import TestIssuer
from callisto_devkit.processes import free_media_port, free_port
from callisto_devkit.servers import NatsServer, RtpEngine
from callisto_devkit.sipp import start_sipp
from callisto_protocol import Envelope
from callisto_protocol.calls import CallStateChanged
from callisto_protocol.dialer import CampaignFigures, PreviewOffered
from callisto_protocol.queues import QueueCallEvent, QueueCallKind

pytestmark = [pytest.mark.integration, pytest.mark.slow]
DIALER = ["cm.calls.originate", "cm.calls.read", "cm.calls.control", "qm.#", "core-bus.agents.read"]


def zone_at(hour_wanted: set[int]) -> str:
    """A fixed-offset zone where the local hour now is one of ``hour_wanted``."""
    now = datetime.now(UTC)
    for offset in range(-12, 15):
        if (now.hour + offset) % 24 in hour_wanted:
            return f"Etc/GMT{'-' if offset >= 0 else '+'}{abs(offset)}"  # Etc/GMT-3 is UTC+3
    raise AssertionError("no zone")


async def run_campaign(
    http: Any, boss: dict[str, str], people: list[dict[str, Any]], mode: str = "progressive", **more: Any
) -> None:
    """A campaign "calls" (US rules) into the demo's emergencies queue, its list, started."""
    body = {"id": "calls", "name": "Water bills", "mode": mode, "queue_id": "emergencies",
            "policy": "us-tsr", "caller_id": "+12125550100", **more}  # fmt: skip
    assert (await http.post("/api/v1/campaigns", json=body, headers=boss)).status_code == 201
    listed = await http.post("/api/v1/campaigns/calls/contacts", json=people, headers=boss)
    assert listed.status_code == 200, listed.text
    started = await http.post("/api/v1/campaigns/calls/state", json={"action": "start"}, headers=boss)
    assert started.status_code == 200, started.text


async def contacts(http: Any, headers: dict[str, str]) -> dict[str, dict[str, Any]]:
    found = (await http.get("/api/v1/campaigns/calls/contacts", headers=headers)).json()
    return {c["external_id"]: c for c in found}


async def test_a_progressive_campaign_calls_its_list_through_the_trunk_to_the_agent(
    private_nats: NatsServer, redis_url: str, rtpengine: RtpEngine, token_issuer: TestIssuer,
    postgres_database: str, tmp_path: Path,
) -> None:  # fmt: skip
    token_issuer.service_permissions["dialer"] = DIALER
    boss = token_issuer.bearer("dialer.#", "qm.#", subject="supervisor1")
    day, night = zone_at(set(range(10, 19))), zone_at({23, 0, 1, 2, 3})
    people = [
        {"external_id": f"C-{n}", "numbers": [f"+1212555010{n}"], "time_zone": day} for n in range(3)
    ] + [
        {"external_id": "NIGHT", "numbers": ["+12125550109"], "time_zone": night},
        {"external_id": "DNC", "numbers": ["+12125550108"], "time_zone": day},
    ]
    async with with_customer(private_nats, redis_url, rtpengine, token_issuer, tmp_path, customers=3) as (
        s, customer,
    ), dialer(private_nats.url, postgres_database, tick_s=0.2) as (http, _):  # fmt: skip
        told: list[CampaignFigures] = []

        async def keep(event: CampaignFigures, _: Envelope) -> None:
            told.append(event)

        await s.bus.subscribe(CampaignFigures, keep)
        await no_wrap_up(s, "emergencies")
        port = free_port()
        await s.register("operator1", port)
        await s.agent_ready("agent-1")
        xml = scenario("agent_hangs_up", tmp_path, RING_MS=300, TALK_MS=1000)
        agent = await start_sipp(xml, tmp_path, "-m", "3", "-p", str(port), "-mp", str(free_media_port()))
        assert (await http.put("/api/v1/dnc/+12125550108", json={}, headers=boss)).status_code == 200
        await run_campaign(http, boss, people)

        async def reached() -> bool:  # and the ones not to call looked at
            found = await contacts(http, boss)
            return all(found[f"C-{n}"]["outcome"] == "answered" for n in range(3)) and (
                found["DNC"]["state"] == "done" and found["NIGHT"]["next_at"] is not None
            )

        await eventually(reached, 90)
        await finished(customer, agent)
        found = await contacts(http, boss)
        assert (found["DNC"]["state"], found["DNC"]["outcome"]) == ("done", "do-not-call")
        assert found["NIGHT"]["state"] == "pending" and found["NIGHT"]["attempts"] == 0
        assert found["NIGHT"]["next_at"] is not None
        log = (await http.get("/api/v1/campaigns/calls/attempts", headers=boss)).json()
        assert sorted(a["external_id"] for a in log) == ["C-0", "C-1", "C-2"]  # each once
        hours = ("hours (working day 08:00-21:00): ok", "hours (rest day 08:00-21:00): ok")
        for attempt in log:
            assert (attempt["state"], attempt["outcome"]) == ("ended", "answered")
            assert attempt["agent_id"] == "agent-1"
            assert any(line.endswith(hours) for line in attempt["checked"]), attempt["checked"]
            assert states_of(s, attempt["id"]) == [
                "created", "ringing", "queued", "ringing", "connected", "ended",
            ]  # fmt: skip
        campaign = (await http.get("/api/v1/campaigns/calls", headers=boss)).json()
        assert campaign["state"] == "running" and campaign["remaining"] == 1  # the night's contact

        figures = (await http.get("/api/v1/campaigns/calls/figures", headers=boss)).json()
        assert (figures["dialled"], figures["answered"], figures["abandoned"], figures["remaining"]) == (
            3,
            3,
            0,
            1,
        )
        assert figures["abandon_rate"] == 0.0 and figures["agents"] == 1
        assert told and told[0].campaign_id == "calls"  # published while it runs

        # the report is the log: its attempts are the log's, its figures counted from them
        report = (await http.get("/api/v1/campaigns/calls/report", headers=boss)).json()
        assert [a["id"] for a in report["attempts"]] == [a["id"] for a in log]
        summary = report["summary"]
        assert (summary["contacts"], summary["attempted"], summary["attempts"], summary["live_answered"]) == (
            5, 3, 3, 3,
        )  # fmt: skip
        assert (summary["penetration"], summary["contact_rate"], summary["abandon_rate"]) == (0.6, 1.0, 0.0)
        assert summary["do_not_call"] == 1
        rows = (await http.get("/api/v1/campaigns/calls/report", params={"format": "csv"}, headers=boss)).text
        assert len(rows.splitlines()) == 6 and rows.startswith("external_id,name,state,outcome")
        book = await http.get("/api/v1/campaigns/calls/report", params={"format": "xlsx"}, headers=boss)
        sheets = load_workbook(io.BytesIO(book.content))
        assert sheets.sheetnames == ["summary", "contacts", "attempts"] and sheets["attempts"].max_row == 4
        stopped = await http.post("/api/v1/campaigns/calls/state", json={"action": "stop"}, headers=boss)
        assert stopped.status_code == 200


async def no_wrap_up(s: Suite, queue_id: str) -> None:
    supervisor = s.issuer.bearer("qm.#")
    queues = (await s.qm_http.get("/api/v1/queues", headers=supervisor)).json()
    queue = next(q for q in queues if q["id"] == queue_id)
    changed = await s.qm_http.put(
        f"/api/v1/queues/{queue_id}", json={**queue, "wrap_up_s": 0}, headers=supervisor
    )
    assert changed.status_code == 200, changed.text


async def test_a_customer_answering_when_no_agent_is_free_hears_the_message_within_two_seconds(
    private_nats: NatsServer, redis_url: str, rtpengine: RtpEngine, token_issuer: TestIssuer,
    postgres_database: str, tmp_path: Path,
) -> None:  # fmt: skip
    """The agent the call was dialled for steps away while the customer's phone rings: the answered
    customer is taken out of the queue and hears the message before 2 s are out, then the line is
    cleared; the attempt is abandoned (it counts against the policy's limit) and called again later."""
    token_issuer.service_permissions["dialer"] = DIALER
    boss = token_issuer.bearer("dialer.#", "qm.#", subject="supervisor1")
    person = {"external_id": "A-1", "numbers": ["+12125550101"], "time_zone": zone_at(set(range(10, 19)))}
    async with with_customer(private_nats, redis_url, rtpengine, token_issuer, tmp_path, ring_ms=2500) as (
        s, customer,
    ), dialer(private_nats.url, postgres_database, tick_s=0.2) as (http, _):  # fmt: skip
        await s.register("operator1", free_port())
        await s.agent_ready("agent-1")
        await run_campaign(http, boss, [person])

        async def dialling() -> bool:
            log = (await http.get("/api/v1/campaigns/calls/attempts", headers=boss)).json()
            return bool(log) and log[0]["state"] == "dialling"

        await eventually(dialling)
        away = await s.qm_http.post(
            "/api/v1/agents/agent-1/state", json={"request": "not_ready", "reason": "break"}, headers=boss
        )
        assert away.status_code == 200, away.text
        await finished(customer)  # answered, heard the message, got the BYE

        async def abandoned() -> dict[str, Any] | None:
            log = (await http.get("/api/v1/campaigns/calls/attempts", headers=boss)).json()
            return log[0] if log and log[0]["state"] == "ended" else None

        await eventually(abandoned)
        attempt = await abandoned()
        assert attempt is not None and attempt["outcome"] == "abandoned" and attempt["connected_at"] is None
        call = attempt["id"]
        assert states_of(s, call) == ["created", "ringing", "queued", "ended"]
        events = [e for e in s.of(CallStateChanged) if e.call_id == call]
        queued, ended = events[2], events[3]
        assert (
            ended.ended_by == "system" and (ended.since - queued.since).total_seconds() > 2.5
        )  # the message
        left = [e for e in s.of(QueueCallEvent) if e.call_id == call]
        assert left[-1].step is QueueCallKind.ABANDONED
        assert (left[-1].at - queued.since).total_seconds() < 2.0  # out of the queue, message starting
        contact = (await contacts(http, boss))["A-1"]
        assert (contact["state"], contact["attempts"]) == ("pending", 1) and contact["next_at"] is not None


async def test_a_preview_campaign_offers_the_card_then_rings_the_agent_and_the_customer(
    private_nats: NatsServer, redis_url: str, rtpengine: RtpEngine, token_issuer: TestIssuer,
    postgres_database: str, tmp_path: Path,
) -> None:  # fmt: skip
    """The agent gets a contact's card, skips it, gets the next one and dials it: their phone rings
    first, then the customer's; the skipped contact counts no attempt and comes back later."""
    token_issuer.service_permissions["dialer"] = DIALER
    boss = token_issuer.bearer("dialer.#", "qm.#", subject="supervisor1")
    operator = token_issuer.bearer("dialer.agents.{agent_id}.#", agent_id="agent-1", subject="operator1")
    stranger = token_issuer.bearer("dialer.agents.{agent_id}.#", agent_id="agent-2", subject="operator2")
    day = zone_at(set(range(10, 19)))
    people = [
        {"external_id": f"P-{n}", "name": f"Debtor {n}", "numbers": [f"+1212555030{n}"], "time_zone": day,
         "amount_owed": "120.50", "attributes": {"contract": f"C-{n}"}}
        for n in range(2)
    ]  # fmt: skip
    offers: list[PreviewOffered] = []

    async def keep(event: PreviewOffered, _: Envelope) -> None:
        offers.append(event)

    async with with_customer(private_nats, redis_url, rtpengine, token_issuer, tmp_path) as (
        s, customer,
    ), dialer(private_nats.url, postgres_database, tick_s=0.2) as (http, _):  # fmt: skip
        await s.bus.subscribe(PreviewOffered, keep)
        agent = await agent_phone(s, "operator1", "agent-1", "agent_hangs_up", TALK_MS=1500)
        await run_campaign(http, boss, people, mode="preview")

        async def offered(count: int) -> bool:
            return len(offers) >= count

        await eventually(lambda: offered(1))
        first = offers[0]
        assert (first.agent_id, first.external_id, first.amount_owed) == ("agent-1", "P-0", "120.50")
        assert first.attributes == {"contract": "C-0"} and first.number == "+12125550300"
        choose = f"/api/v1/attempts/{first.attempt_id}/preview"
        assert (await http.post(choose, json={"action": "skip"}, headers=stranger)).status_code == 403
        assert (await http.post(choose, json={"action": "skip"}, headers=operator)).status_code == 204
        assert (await http.post(choose, json={"action": "dial"}, headers=operator)).status_code == 409
        await eventually(lambda: offered(2))
        second = offers[1]
        assert second.external_id == "P-1"
        dialled = await http.post(
            f"/api/v1/attempts/{second.attempt_id}/preview", json={"action": "dial"}, headers=operator
        )
        assert dialled.status_code == 204, dialled.text
        await finished(agent, customer)

        async def answered() -> bool:
            return (await contacts(http, boss))["P-1"]["outcome"] == "answered"

        await eventually(answered)
        found = await contacts(http, boss)
        assert (found["P-0"]["state"], found["P-0"]["attempts"]) == ("pending", 0)  # skipped: no attempt
        log = {a["id"]: a for a in (await http.get("/api/v1/campaigns/calls/attempts", headers=boss)).json()}
        assert log[first.attempt_id]["outcome"] == "skipped" and log[first.attempt_id]["dialled_at"] is None
        assert log[second.attempt_id]["agent_id"] == "agent-1"
        assert states_of(s, second.attempt_id) == [
            "created",
            "ringing",
            "connected",
            "ringing",
            "connected",
            "ended",
        ]


async def test_an_agentless_campaign_says_its_message_and_puts_a_customer_who_presses_1_through(
    private_nats: NatsServer, redis_url: str, rtpengine: RtpEngine, token_issuer: TestIssuer,
    postgres_database: str, tmp_path: Path,
) -> None:  # fmt: skip
    """No agent is waited for: the customer hears the campaign's message, presses 1 during it and is
    put through to the campaign's queue, where the agent takes them."""
    token_issuer.service_permissions["dialer"] = DIALER
    boss = token_issuer.bearer("dialer.#", "qm.#", subject="supervisor1")
    person = {"external_id": "N-1", "numbers": ["+12125550401"], "time_zone": zone_at(set(range(10, 19)))}
    customer_port = free_port()
    async with with_customer(
        private_nats, redis_url, rtpengine, token_issuer, tmp_path, customers=0, trunk_port=customer_port
    ) as (s, _), dialer(private_nats.url, postgres_database, tick_s=0.2) as (http, _):  # fmt: skip
        xml = scenario("customer_presses", tmp_path, RING_MS=300, KEY=1, KEY_AT_MS=1500)
        customer = await start_sipp(
            xml, tmp_path, "-m", "1", "-p", str(customer_port), "-mp", str(free_media_port())
        )
        agent = await agent_phone(s, "operator1", "agent-1", "agent_hangs_up", TALK_MS=1000)
        await run_campaign(http, boss, [person], mode="agentless", press_key="1", lines=2)
        await finished(customer, agent)

        async def answered() -> bool:
            return (await contacts(http, boss))["N-1"]["outcome"] == "answered"

        await eventually(answered)
        (attempt,) = (await http.get("/api/v1/campaigns/calls/attempts", headers=boss)).json()
        assert (attempt["outcome"], attempt["agent_id"]) == ("answered", "agent-1")
        assert states_of(s, attempt["id"]) == [
            "created",
            "ringing",
            "ivr",
            "queued",
            "ringing",
            "connected",
            "ended",
        ]

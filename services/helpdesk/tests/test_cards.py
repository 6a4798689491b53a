"""Call cards from real events on NATS (JetStream) into PostgreSQL: built whatever the order, not
changed by duplicates, turned into a pre-filled ticket, linked to another."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from helpdesk_testing import eventually, helpdesk, ticket_when

from callisto_devkit.issuer import TestIssuer
from callisto_devkit.publishers import Publishers
from callisto_devkit.servers import NatsServer
from callisto_protocol import Event
from callisto_protocol.calls import CallDirection, CallState, CallStateChanged, EndedBy
from callisto_protocol.queues import QueueCallEvent, QueueCallKind
from callisto_protocol.recordings import RecordingAvailable, RecordingDeleted
from callisto_protocol.telephony import IvrInput

pytestmark = pytest.mark.integration
T0 = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)


def state(call_id: str, seq: int, new: CallState, at_s: float, **more: Any) -> CallStateChanged:
    return CallStateChanged(
        call_id=call_id, seq=seq, state=new, since=T0 + timedelta(seconds=at_s),
        direction=CallDirection.INBOUND, caller="8 912 345-67-89", dialled="311", trunk="city-gateway",
        **more,
    )  # fmt: skip


async def card_of(
    http: httpx.AsyncClient, call_id: str, headers: dict[str, str], outcome: str
) -> dict[str, Any]:
    """The card once both consumers caught up (the call's states and the queue's steps come apart)."""
    for _ in range(200):
        reply = await http.get(f"/api/v1/call-cards/{call_id}", headers=headers)
        card = reply.json() if reply.status_code == 200 else {}
        if card.get("outcome") == outcome and card.get("wait_s") is not None:
            await asyncio.sleep(0.5)  # the duplicates published after it must change nothing
            return dict((await http.get(f"/api/v1/call-cards/{call_id}", headers=headers)).json())
        await asyncio.sleep(0.05)
    raise AssertionError(f"no {outcome} card for {call_id}")


REC = "https://recordings.water.example/r-1.opus"
REC2 = "https://recordings.water.example/r-2.opus"


async def _recorded(http: httpx.AsyncClient, call_id: str, headers: dict[str, str]) -> dict[str, Any] | None:
    found: dict[str, Any] = (await http.get(f"/api/v1/call-cards/{call_id}", headers=headers)).json()
    return found if found["recording_url"] else None


async def test_cards_from_events_in_any_order_then_a_ticket_from_the_card(
    private_nats: NatsServer, postgres_database: str, token_issuer: TestIssuer
) -> None:
    operator = token_issuer.bearer("helpdesk.tickets.#")
    events: list[Event] = [
        state("c-1", 1, CallState.CREATED, 0),
        state("c-1", 2, CallState.IVR, 0.1),
        IvrInput(call_id="c-1", step="menu", digits="1"),
        state("c-1", 3, CallState.QUEUED, 4, queue_id="emergencies"),
        state("c-1", 4, CallState.RINGING, 10, queue_id="emergencies", agent_id="agent-1"),
        QueueCallEvent(
            queue_id="emergencies",
            step=QueueCallKind.ANSWERED,
            call_id="c-1",
            at=T0 + timedelta(seconds=12),
            agent_id="agent-1",
            waited_s=8.0,
        ),
        state("c-1", 5, CallState.CONNECTED, 12, queue_id="emergencies", agent_id="agent-1"),
        state(
            "c-1",
            6,
            CallState.ENDED,
            72,
            queue_id="emergencies",
            agent_id="agent-1",
            ended_by=EndedBy.CALLER,
            sip_status=200,
        ),
        # a caller who gave up while queued
        state("c-2", 1, CallState.CREATED, 100),
        state("c-2", 2, CallState.QUEUED, 101, queue_id="general"),
        QueueCallEvent(
            queue_id="general",
            step=QueueCallKind.ABANDONED,
            call_id="c-2",
            at=T0 + timedelta(seconds=130),
            waited_s=29.0,
        ),
        state("c-2", 3, CallState.ENDED, 130, queue_id="general", ended_by=EndedBy.CALLER, sip_status=200),
    ]
    # out of order and twice: the ended state first, every event again at the end
    shuffled = [events[7], *events[:7], *events[8:], *events]
    publisher = Publishers(private_nats.url)  # each event from its own publisher's bus
    async with helpdesk(private_nats.url, postgres_database) as (http, _, _):
        try:
            for event in shuffled:
                await publisher.publish(event)
            answered = await card_of(http, "c-1", operator, "answered")
            abandoned = await card_of(http, "c-2", operator, "abandoned")
            # the recordings come before any ticket about the calls: they follow the tickets later
            await publisher.publish(
                RecordingAvailable(recording_id="r-1", call_id="c-1", url=REC, duration_s=60)
            )
            await publisher.publish(
                RecordingAvailable(recording_id="r-2", call_id="c-2", url=REC2, duration_s=3)
            )
            recorded = await eventually(lambda: _recorded(http, "c-1", operator))
        finally:
            await publisher.close()
        assert answered["number_e164"] == "+79123456789" and answered["contact_id"] is not None
        assert (answered["queue_id"], answered["agent_id"], answered["wait_s"]) == (
            "emergencies",
            "agent-1",
            8.0,
        )
        assert (answered["talk_s"], answered["outcome"], answered["ended_by"]) == (60.0, "answered", "caller")
        assert answered["ivr"] == {"menu": "1"} and answered["seq"] == 6
        assert (recorded["recording_url"], recorded["recording_s"]) == (REC, 60)
        assert (abandoned["outcome"], abandoned["wait_s"], abandoned["talk_s"]) == ("abandoned", 29.0, None)
        history = await http.get(
            "/api/v1/call-cards", params={"number": "+7 912 345 67 89"}, headers=operator
        )
        assert [c["call_id"] for c in history.json()] == ["c-2", "c-1"]

        made = await http.post(
            "/api/v1/call-cards/c-1/ticket", json={"category_id": "no-water"}, headers=operator
        )
        assert made.status_code == 201, made.text
        ticket = made.json()
        assert ticket["subject"] == "Call from Vera Vasquez" and ticket["call_id"] == "c-1"
        assert ticket["contact_id"] == answered["contact_id"] and "menu: 1" in ticket["description"]
        linked = await http.post("/api/v1/call-cards/c-2/links", json={"ticket_id": ticket["ticket_id"]},
                                 headers=operator)  # fmt: skip
        assert [t["number"] for t in linked.json()["tickets"]] == [ticket["number"]]
        assert (await http.get("/api/v1/call-cards/nope", headers=operator)).status_code == 404
        full = await ticket_when(http, ticket["ticket_id"], operator, lambda t: len(t["attachments"]) == 2)
        assert sorted(a["url"] for a in full["attachments"]) == [REC, REC2]
        assert {a["kind"] for a in full["attachments"]} == {"recording"}
        first = next(a for a in full["attachments"] if a["url"] == REC)
        listen = await http.get(f"/api/v1/tickets/{ticket['ticket_id']}/attachments/{first['attachment_id']}",
                                headers=operator)  # fmt: skip
        assert listen.status_code == 307 and listen.headers["location"] == REC
        assert (await http.get("/api/v1/call-cards", headers=operator)).status_code == 400

        # a recording deleted for good: neither the card nor the ticket links to it any more
        remover = Publishers(private_nats.url)
        try:
            await remover.publish(
                RecordingDeleted(
                    recording_id="r-2", call_id="c-2", reason="retention: class default, 365 days"
                )
            )
            kept = await ticket_when(
                http, ticket["ticket_id"], operator, lambda t: len(t["attachments"]) == 1
            )
        finally:
            await remover.close()
        assert [a["url"] for a in kept["attachments"]] == [REC]
        assert (await http.get("/api/v1/call-cards/c-2", headers=operator)).json()["recording_url"] is None


async def test_a_poison_call_event_becomes_a_dead_letter_and_later_calls_get_their_cards(
    private_nats: NatsServer, postgres_database: str, token_issuer: TestIssuer
) -> None:
    """Reproduced before: a NUL in a caller id (PostgreSQL refuses it) made the call-card consumer
    retry forever, 366 tracebacks in 2 minutes, and no card was written for the calls behind it."""
    reader = token_issuer.bearer("helpdesk.tickets.read")
    admin = token_issuer.bearer("#")
    stand_ins = Publishers(private_nats.url)
    settings = {"consumer_max_failures": 2, "consumer_retry_delay_s": 0.1}
    async with helpdesk(private_nats.url, postgres_database, **settings) as (http, _, _):
        try:
            await stand_ins.publish(
                state("c-poison", 1, CallState.CREATED, 0).model_copy(update={"caller": "+7\x00912"})
            )
            await stand_ins.publish(state("c-after", 1, CallState.CREATED, 1))
            await eventually(lambda: _listed(http, "/api/v1/call-cards/c-after", reader), timeout=20)

            async def dead() -> list[dict[str, Any]]:
                found = (await http.get("/api/v1/dead-letters", headers=admin)).json()
                return [x for x in found if x["consumer"] == "helpdesk-calls"]

            [letter] = await eventually(dead, timeout=20)
            assert letter["cause"] == "failed" and letter["original_type"] == "call.state"
            assert "c-poison" in letter["body"] and letter["deliveries"] == 2
            metrics = (await http.get("/metrics")).text
            assert 'callisto_bus_dead_letters_total{cause="failed",consumer="helpdesk-calls"} 1.0' in metrics
            replayed = await http.post(f"/api/v1/dead-letters/{letter['sequence']}/replay", headers=admin)
            assert replayed.status_code == 409  # the cause is still there: it stays, with the reason
            assert replayed.json()["error_id"] == "replay-failed"
            assert (await http.get("/api/v1/dead-letters", headers=reader)).status_code == 403
            gone = await http.delete(f"/api/v1/dead-letters/{letter['sequence']}", headers=admin)
            assert gone.json() == {"sequence": letter["sequence"], "removed": True}
        finally:
            await stand_ins.close()


async def _listed(http: httpx.AsyncClient, path: str, headers: dict[str, str]) -> bool:
    return (await http.get(path, headers=headers)).status_code == 200

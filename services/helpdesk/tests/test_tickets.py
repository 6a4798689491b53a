"""Tickets against real PostgreSQL and NATS: opened from a call, moved through the lifecycle,
refused moves that write nothing, merge, comments, history, events, the category tree."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from helpdesk_testing import eventually, helpdesk

from callisto_devkit.issuer import TestIssuer
from callisto_devkit.publishers import Publishers
from callisto_devkit.servers import NatsServer
from callisto_helpdesk.desk import read_categories
from callisto_protocol import Envelope
from callisto_protocol.calls import CallDirection, CallState, CallStateChanged
from callisto_protocol.tickets import TicketChanged

pytestmark = pytest.mark.integration


async def act(http: httpx.AsyncClient, ticket: str, headers: dict[str, str], **body: Any) -> httpx.Response:
    return await http.post(f"/api/v1/tickets/{ticket}/actions", json=body, headers=headers)


def test_the_default_tree_has_fifty_categories_and_a_triage() -> None:
    rows = read_categories()
    assert len(rows) >= 50 and len({r[0] for r in rows}) == len(rows)
    by_id = {r[0]: r for r in rows}
    assert by_id["password-reset"][3] == "it-service-desk"  # inherited from "IT service desk"
    assert by_id["water-quality"][3] == "laboratory"  # its own
    assert "triage" in by_id


async def test_a_ticket_from_a_call_to_the_customers_confirmation(
    private_nats: NatsServer, postgres_database: str, token_issuer: TestIssuer
) -> None:
    operator = token_issuer.bearer("helpdesk.tickets.#", "helpdesk.contacts.read")
    reader = token_issuer.bearer("helpdesk.tickets.read")
    seen: list[TicketChanged] = []
    async with helpdesk(private_nats.url, postgres_database) as (http, service, book):

        async def keep(event: TicketChanged, _: Envelope) -> None:
            seen.append(event)

        await service.bus.subscribe(TicketChanged, keep)
        vera = (await book.lookup("89123456789")).contact
        assert vera is not None
        tree = (await http.get("/api/v1/categories", headers=reader)).json()
        assert len(tree) >= 50
        opened = await http.post(
            "/api/v1/tickets",
            json={"subject": "No water at <b>12 Hospital Lane</b>", "description": "since 6 am",
                  "category_id": "no-water", "urgency": 1, "impact": 1, "contact_id": vera.contact_id,
                  "call_id": "c-42"},
            headers=operator,
        )  # fmt: skip
        assert opened.status_code == 201, opened.text
        ticket = opened.json()
        assert (ticket["priority"], ticket["department"], ticket["state"]) == (1, "water-network", "new")
        assert ticket["subject"] == "No water at <b>12 Hospital Lane</b>"  # stored as given; JSON escapes it
        number, tid = ticket["number"], ticket["ticket_id"]

        refused = await act(http, tid, operator, action="resolve")
        assert refused.status_code == 409 and refused.json()["error_id"] == "illegal-transition"
        steps = [
            {"action": "assign", "assignee": "crew-7"},
            {"action": "start"},
            {"action": "pend", "pending_on": "third_party", "note": "waiting for the road permit"},
            {"action": "resume"},
            {"action": "resolve", "note": "valve replaced"},  # and the customer is asked at once
        ]
        for step in steps:
            moved = await act(http, tid, operator, **step)
            assert moved.status_code == 200, (step, moved.text)
        early = await act(http, tid, operator, action="resolve")  # resolving again
        assert early.status_code == 409
        commented = await http.post(f"/api/v1/tickets/{tid}/comments",
                                    json={"body": "Customer called: water is back.", "public": False},
                                    headers=operator)  # fmt: skip
        assert commented.status_code == 201
        closed = await act(http, tid, operator, action="confirm")
        assert closed.json()["state"] == "closed" and closed.json()["closed_at"] is not None
        again = await act(http, tid, operator, action="resolve")
        assert again.status_code == 409  # a closed ticket is not resolved
        full = (await http.get(f"/api/v1/tickets/{tid}", headers=reader)).json()
        assert [h["action"] for h in full["history"]] == [
            "created", "assign", "start", "pend", "resume", "resolve", "ask_confirmation", "commented",
            "confirm",
        ]  # fmt: skip
        assert full["history"][3]["details"] == {
            "pending_on": "third_party",
            "note": "waiting for the road permit",
        }
        assert full["history"][1]["details"] == {"assignee": "crew-7"}
        assert [c["body"] for c in full["comments"]] == ["Customer called: water is back."]
        sla = full["sla"]  # priority 1: 15 min to respond, 4 h to resolve, around the clock
        assert sla["first_response"]["met_at"] is not None and sla["first_response"]["standing"] == "ok"
        assert (sla["resolution"]["standing"], sla["resolution"]["due"]) == ("ok", None)  # closed: stopped
        by_call = (await http.get("/api/v1/tickets", params={"call_id": "c-42"}, headers=reader)).json()
        assert [t["number"] for t in by_call] == [number]
        await asyncio.sleep(0.3)
    assert [e.action for e in seen][:3] == ["created", "assign", "start"]
    assert seen[0].call_id == "c-42" and seen[-1].state == "closed"


async def test_bad_tickets_and_merges(
    private_nats: NatsServer, postgres_database: str, token_issuer: TestIssuer
) -> None:
    operator = token_issuer.bearer("helpdesk.tickets.#")
    async with helpdesk(private_nats.url, postgres_database) as (http, _, _):
        for bad, status in (
            ({"subject": "x", "category_id": "no-such"}, 422),
            ({"subject": "x", "contact_id": "nobody"}, 404),
            ({"subject": ""}, 422),
            ({"subject": "x", "urgency": 7}, 422),
            ({"subject": "x", "channel": "pigeon"}, 422),
            ({"subject": "x", "description": "y" * 20001}, 422),
        ):
            reply = await http.post("/api/v1/tickets", json=bad, headers=operator)
            assert reply.status_code == status, (bad, reply.text)
        assert (await http.get("/api/v1/tickets", headers=operator)).json() == []  # nothing half-written
        triage = (
            await http.post("/api/v1/tickets", json={"subject": "Strange noise"}, headers=operator)
        ).json()
        assert (triage["category_id"], triage["department"], triage["priority"]) == ("triage", "triage", 3)
        dup = (
            await http.post("/api/v1/tickets", json={"subject": "Strange noise again"}, headers=operator)
        ).json()
        self_merge = await act(http, dup["ticket_id"], operator, action="merge", into=dup["ticket_id"])
        assert self_merge.status_code == 409
        merged = await act(http, dup["ticket_id"], operator, action="merge", into=triage["ticket_id"])
        assert merged.json()["state"] == "merged" and merged.json()["merged_into"] == triage["ticket_id"]
        after = await act(http, dup["ticket_id"], operator, action="assign", assignee="x")
        assert after.status_code == 409
        unknown = await act(http, "nope", operator, action="start")
        assert unknown.status_code == 404
        reader_only = await act(http, triage["ticket_id"], {"Authorization": "Bearer x"}, action="start")
        assert reader_only.status_code == 401


async def test_attachments_and_corrections(
    private_nats: NatsServer, postgres_database: str, token_issuer: TestIssuer
) -> None:
    operator = token_issuer.bearer("helpdesk.tickets.#")
    settings = {"max_attachment_bytes": 64 * 1024}
    async with helpdesk(private_nats.url, postgres_database, **settings) as (http, _, _):
        opened = await http.post("/api/v1/tickets", json={"subject": "Noise in pipes"}, headers=operator)
        tid = opened.json()["ticket_id"]
        url = f"/api/v1/tickets/{tid}/attachments"
        page = b"<html><script>steal()</script></html>"
        sent = await http.post(url, params={"name": "page.html"}, content=page,
                               headers={**operator, "Content-Type": "text/html"})  # fmt: skip
        assert sent.status_code == 201, sent.text
        note = await http.post(url, params={"name": "call.ogg", "kind": "voice-note"}, content=b"OggS" * 100,
                               headers={**operator, "Content-Type": "audio/ogg"})  # fmt: skip
        assert note.json()["kind"] == "voice-note" and note.json()["size"] == 400
        got = await http.get(f"{url}/{sent.json()['attachment_id']}", headers=operator)
        assert got.content == page and got.headers["content-disposition"].startswith("attachment;")
        assert (
            got.headers["x-content-type-options"] == "nosniff"
            and got.headers["content-security-policy"] == "sandbox"
        )

        async def chunks() -> Any:
            for _ in range(100):
                yield b"x" * 1024

        for huge in (b"x" * (64 * 1024 + 1), chunks()):  # declared, then streamed without a length
            refused = await http.post(url, params={"name": "big.bin"}, content=huge, headers=operator)
            assert refused.status_code == 413 and refused.json()["error_id"] == "attachment-too-large"
        for name in ("../etc/passwd", ""):
            assert (
                await http.post(url, params={"name": name}, content=b"x", headers=operator)
            ).status_code == 422
        assert (await http.post("/api/v1/tickets/nope/attachments", params={"name": "a"}, content=b"x",
                                headers=operator)).status_code == 404  # fmt: skip
        full = (await http.get(f"/api/v1/tickets/{tid}", headers=operator)).json()
        assert [a["name"] for a in full["attachments"]] == ["page.html", "call.ogg"]  # nothing else written

        fixed = await http.patch(f"/api/v1/tickets/{tid}", json={"category_id": "low-pressure", "urgency": 1},
                                 headers=operator)  # fmt: skip
        assert fixed.status_code == 200, fixed.text
        assert (fixed.json()["department"], fixed.json()["priority"]) == ("water-network", 2)
        wrong = await http.patch(f"/api/v1/tickets/{tid}", json={"category_id": "nope"}, headers=operator)
        assert wrong.status_code == 422
        full = (await http.get(f"/api/v1/tickets/{tid}", headers=operator)).json()
        assert full["history"][-1]["details"]["category_id"] == {"from": "triage", "to": "low-pressure"}
        assert full["history"][-1]["details"]["priority"] == {"from": 3, "to": 2}

        admin = token_issuer.bearer("helpdesk.#")
        noise = {"name": "Noise in pipes", "parent_id": "water"}
        added = await http.put("/api/v1/categories/pipe-noise", json=noise, headers=admin)
        assert added.json()["department"] == "water-network"  # the parent's
        loop = await http.put("/api/v1/categories/water", json={"name": "Water", "parent_id": "pipe-noise"},
                              headers=admin)  # fmt: skip
        assert loop.status_code == 422
        assert (await http.delete("/api/v1/categories/pipe-noise", headers=admin)).status_code == 204
        retired = await http.post("/api/v1/tickets", json={"subject": "x", "category_id": "pipe-noise"},
                                  headers=operator)  # fmt: skip
        assert retired.status_code == 422


async def test_an_operator_reaches_the_tickets_and_cards_of_their_own_calls_only(
    private_nats: NatsServer, postgres_database: str, token_issuer: TestIssuer
) -> None:
    """Reproduced before: an operator's token read every ticket and every call card."""
    supervisor = token_issuer.bearer("helpdesk.tickets.#")
    operator = token_issuer.bearer(  # as auth grants the operator role, for agent-1
        "helpdesk.tickets.create", "helpdesk.agents.{agent_id}.tickets.#", agent_id="agent-1", subject="u-ann"
    )
    stranger = token_issuer.bearer("helpdesk.contacts.read", agent_id="agent-1")
    stand_ins = Publishers(private_nats.url)
    async with helpdesk(private_nats.url, postgres_database) as (http, _, book):
        vera = (await book.lookup("89123456789")).contact
        assert vera is not None

        async def opened(headers: dict[str, str], **body: object) -> str:
            made = await http.post(
                "/api/v1/tickets", json={"category_id": "no-water", **body}, headers=headers
            )
            assert made.status_code == 201, made.text
            return str(made.json()["ticket_id"])

        mine = await opened(supervisor, subject="Leak", assignee="agent-1")
        theirs = await opened(supervisor, subject="Meter", assignee="agent-2")
        about_her = await opened(supervisor, subject="Bill", contact_id=vera.contact_id)
        written = await opened(operator, subject="Noted on the phone")
        now = datetime.now(UTC)
        calls = (("c-ann", "agent-1", "8 912 345-67-89"), ("c-bob", "agent-2", "+4930999999"))
        for call_id, agent, caller in calls:  # agent-1 talked to Vera, agent-2 to someone else
            await stand_ins.publish(CallStateChanged(
                call_id=call_id, seq=1, state=CallState.CONNECTED, since=now, direction=CallDirection.INBOUND,
                caller=caller, dialled="311", agent_id=agent,
            ))  # fmt: skip
        await eventually(lambda: _listed(http, "/api/v1/call-cards/c-bob", supervisor))
        await eventually(lambda: _listed(http, "/api/v1/call-cards/c-ann", supervisor))
        await stand_ins.close()

        listed = (await http.get("/api/v1/tickets", headers=operator)).json()
        assert {t["ticket_id"] for t in listed} == {mine, about_her, written}
        assert len((await http.get("/api/v1/tickets", headers=supervisor)).json()) == 4
        assert (await http.get(f"/api/v1/tickets/{about_her}", headers=operator)).status_code == 200
        for path in (f"/api/v1/tickets/{theirs}", "/api/v1/call-cards/c-bob"):  # out of reach: not there
            assert (await http.get(path, headers=operator)).status_code == 404, path
        moved = await http.post(f"/api/v1/tickets/{theirs}/comments", json={"body": "x"}, headers=operator)
        assert moved.status_code == 404
        commented = await http.post(
            f"/api/v1/tickets/{mine}/comments", json={"body": "on it"}, headers=operator
        )
        assert commented.status_code == 201
        assert (await http.get("/api/v1/call-cards/c-ann", headers=operator)).status_code == 200
        history = await http.get("/api/v1/call-cards", params={"number": "+4930999999"}, headers=operator)
        assert history.json() == []  # a caller agent-1 never talked to
        assert (await http.get("/api/v1/tickets", headers=stranger)).status_code == 403


async def _listed(http: httpx.AsyncClient, path: str, headers: dict[str, str]) -> bool:
    return (await http.get(path, headers=headers)).status_code == 200


async def test_ticket_lists_search_filter_sort_and_page(
    private_nats: NatsServer, postgres_database: str, token_issuer: TestIssuer
) -> None:
    desk = token_issuer.bearer("helpdesk.tickets.#")
    async with helpdesk(private_nats.url, postgres_database) as (http, _, _):

        async def opened(subject: str, category: str, urgency: int, assignee: str | None) -> dict[str, Any]:
            body = {"subject": subject, "category_id": category, "urgency": urgency, "impact": urgency}
            ticket = (await http.post("/api/v1/tickets", json=body, headers=desk)).json()
            if assignee:
                await act(http, ticket["ticket_id"], desk, action="assign", assignee=assignee)
            return ticket

        hydrant = await opened("Hydrant open on Garden Street", "hydrant", 2, "agent-1")
        russian = await opened("Нет воды в доме 5", "no-water", 1, "agent-2")
        odour = await opened("Sewer odour near the school", "odour", 3, "engineer-4")
        meter = await opened("Meter reading disputed", "meter-reading", 3, None)

        async def found(query: str) -> tuple[list[int], str]:
            reply = await http.get(f"/api/v1/tickets?{query}", headers=desk)
            assert reply.status_code == 200, reply.text
            return [t["number"] for t in reply.json()], reply.headers["x-total-count"]

        assert await found("q=hydr") == ([hydrant["number"]], "1")  # a word's beginning
        assert await found("q=GARDEN%20hydrant") == ([hydrant["number"]], "1")  # every word, any case
        assert await found("q=воды") == ([russian["number"]], "1")
        assert await found(f"q=%23{odour['number']}") == ([odour["number"]], "1")  # a ticket number
        assert await found("q=%26%7C!%3A*") == ([], "0")  # tsquery syntax is not the person's words
        assert await found("q=pipe%20hydrant") == ([], "0")
        water, _ = await found("category=water")  # and everything below it
        assert sorted(water) == sorted([hydrant["number"], russian["number"]])
        team, _ = await found("team=agent-1")  # agent-1 and agent-2 share supervisor-1
        assert sorted(team) == sorted([hydrant["number"], russian["number"]])
        assert (await found("view=unassigned"))[0] == [meter["number"]]
        assert (await found("priority=1"))[0] == [russian["number"]]
        assert (await found(""))[0][0] == russian["number"]  # most urgent first
        newest, total = await found("sort=newest&limit=2")
        rest, _ = await found("sort=newest&limit=2&offset=2")
        assert total == "4" and newest + rest == [meter["number"], odour["number"], russian["number"],
                                                   hydrant["number"]]  # fmt: skip
        for bad in ("sort=sideways", "limit=0", "offset=-1", "priority=9", "view=all", "category=No%20Such"):
            reply = await http.get(f"/api/v1/tickets?{bad}", headers=desk)
            assert reply.status_code == 422, (bad, reply.text)

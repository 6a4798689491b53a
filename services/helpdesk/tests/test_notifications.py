"""Notifications against real PostgreSQL, NATS and a real SMTP server: who is told of a ticket,
the customer's confirmation through the mailed link (rendered escaped), mail held while the SMTP
server is away and sent when it is back."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from helpdesk_testing import eventually, helpdesk, mailbox

from callisto_devkit.issuer import TestIssuer
from callisto_devkit.servers import NatsServer
from callisto_protocol import Envelope
from callisto_protocol.tickets import TicketNotification

pytestmark = pytest.mark.integration
VERA = "vera.vasquez@example.org"


async def act(http: httpx.AsyncClient, ticket: str, headers: dict[str, str], **body: Any) -> dict[str, Any]:
    moved = await http.post(f"/api/v1/tickets/{ticket}/actions", json=body, headers=headers)
    assert moved.status_code == 200, moved.text
    result: dict[str, Any] = moved.json()
    return result


async def test_who_is_told_and_the_customers_confirmation(
    private_nats: NatsServer, postgres_database: str, token_issuer: TestIssuer
) -> None:
    operator = token_issuer.bearer("helpdesk.#", subject="agent-2")
    supervisor = token_issuer.bearer("helpdesk.#", subject="supervisor-1")
    told: list[TicketNotification] = []
    async with (
        mailbox() as box,
        helpdesk(
            private_nats.url, postgres_database, smtp_port=box.port, public_url="https://help.water.example",
        ) as (http, service, book),
    ):  # fmt: skip

        async def keep(event: TicketNotification, _: Envelope) -> None:
            told.append(event)

        await service.bus.subscribe(TicketNotification, keep)
        vera = (await book.lookup("89123456789")).contact
        assert vera is not None
        opened = await http.post(
            "/api/v1/tickets",
            json={"subject": "Brown water <script>alert(1)</script>", "description": "Since <b>Monday</b>",
                  "category_id": "water-quality", "contact_id": vera.contact_id},
            headers=operator,
        )  # fmt: skip
        tid, number = opened.json()["ticket_id"], opened.json()["number"]
        await act(http, tid, supervisor, action="assign", assignee="engineer-4")
        assigned = (await box.wait_for("dmitri.kuznetsov@water.example"))[0]
        assert assigned["Subject"] == f"[#{number}] Ticket {number} is assigned to you"
        html = assigned.get_body(preferencelist=("html",)).get_content()
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>" not in html
        creator = (await box.wait_for("pavel.orlov@water.example"))[0]  # agent-2 opened it
        assert "now with engineer-4" in creator["Subject"]

        await act(http, tid, operator, action="start")
        resolved = await act(http, tid, operator, action="resolve", note="filter flushed")
        assert resolved["state"] == "awaiting_confirmation" and resolved["confirm_by"] is not None
        mail = (await box.wait_for(VERA))[0]
        text = mail.get_body(preferencelist=("plain",)).get_content()
        link = re.search(r"https://help\.water\.example(/confirm/\S+)", text)
        assert link is not None, text
        page = await http.get(link.group(1))
        assert page.status_code == 200 and "text/html" in page.headers["content-type"]
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text and "<script>" not in page.text
        assert "&lt;b&gt;Monday&lt;/b&gt;" in page.text
        token = link.group(1).split("token=")[1]
        wrong = await http.post(f"/confirm/{tid}", content=f"token=x{token}&answer=yes",
                                headers={"Content-Type": "application/x-www-form-urlencoded"})  # fmt: skip
        assert wrong.status_code == 404 and wrong.json()["error_id"] == "bad-confirmation"
        form = {"Content-Type": "application/x-www-form-urlencoded"}
        said_no = await http.post(
            f"/confirm/{tid}", content=f"token={token}&answer=no&comment=Still+brown+%3Ci%3Etoday%3C%2Fi%3E",
            headers=form,
        )  # fmt: skip
        assert said_no.status_code == 200 and "working on it again" in said_no.text
        assert "&lt;i&gt;today&lt;/i&gt;" in said_no.text
        ticket = (await http.get(f"/api/v1/tickets/{tid}", headers=operator)).json()
        assert ticket["state"] == "in_progress" and ticket["confirm_by"] is None
        assert (
            ticket["comments"][-1]["body"] == "Still brown <i>today</i>" and ticket["comments"][-1]["public"]
        )
        reopened = await box.wait_for("dmitri.kuznetsov@water.example", 2)
        assert "open again" in reopened[-1]["Subject"]
        reused = await http.post(f"/confirm/{tid}", content=f"token={token}&answer=yes", headers=form)
        assert reused.status_code == 404  # the link of the first resolution is spent

        await act(http, tid, operator, action="resolve", note="pipe replaced")
        second = (await box.wait_for(VERA, 2))[-1].get_body(preferencelist=("plain",)).get_content()
        token = re.search(r"token=(\S+)", second).group(1)  # type: ignore[union-attr]
        said_yes = await http.post(f"/confirm/{tid}", content=f"token={token}&answer=yes", headers=form)
        assert "closed" in said_yes.text
        ticket = (await http.get(f"/api/v1/tickets/{tid}", headers=operator)).json()
        assert ticket["state"] == "closed"
        assert ticket["history"][-1]["actor"] == f"customer:{vera.contact_id}"

        await eventually(lambda: _count(told, 5))
    kinds = sorted(n.about for n in told)
    assert kinds == ["assigned", "reassigned", "reopened", "resolved", "resolved"]
    assert {n.recipient for n in told if n.about == "resolved"} == {VERA}


async def _count(told: list[TicketNotification], count: int) -> bool:
    return len(told) >= count


async def test_mail_waits_while_the_smtp_server_is_away(
    private_nats: NatsServer, postgres_database: str, token_issuer: TestIssuer
) -> None:
    operator = token_issuer.bearer("helpdesk.#")
    async with mailbox() as box:
        await box.stop()  # the mail server is down
        async with helpdesk(private_nats.url, postgres_database, smtp_port=box.port) as (http, _, _):
            ids = []
            for n in range(3):
                opened = await http.post(
                    "/api/v1/tickets",
                    json={
                        "subject": f"Meter {n} broken",
                        "category_id": "meter-fault",
                        "assignee": "agent-1",
                    },
                    headers=operator,
                )
                ids.append(opened.json()["number"])
            await eventually(lambda: _failed(http, operator), timeout=10)
            await box.start()  # back: what waited goes out, once each
            mails = await box.wait_for("olga.smirnova@water.example", 3, timeout=20)
            assert sorted(m["Subject"] for m in mails) == sorted(
                f"[#{n}] Ticket {n} is assigned to you" for n in ids
            )
            assert len({m["Message-ID"] for m in mails}) == 3


async def _failed(http: httpx.AsyncClient, headers: dict[str, str]) -> bool:
    metrics = await http.get("/metrics")
    return "callisto_helpdesk_mail_failed_total" in metrics.text and not re.search(
        r"callisto_helpdesk_mail_failed_total 0\.0", metrics.text
    )


async def test_a_notification_that_cannot_be_mailed_is_given_up_and_the_others_go_out(
    private_nats: NatsServer, postgres_database: str, token_issuer: TestIssuer
) -> None:
    """Reproduced before the fix: one row whose mail could not be composed (a CR/LF in a header) made
    every delivery tick raise and roll back, so no later notification went out."""
    operator = token_issuer.bearer("helpdesk.#")
    admin = token_issuer.bearer("#")
    olga = "olga.smirnova@water.example"
    async with (
        mailbox() as box,
        helpdesk(private_nats.url, postgres_database, smtp_port=box.port) as (
            http,
            _,
            book,
        ),
    ):
        first = await http.post(
            "/api/v1/tickets",
            json={"subject": "Meter broken", "category_id": "meter-fault", "assignee": "agent-1"},
            headers=operator,
        )
        await box.wait_for(olga, 1)
        pool = book.store.db.pool
        poison = await pool.fetchval(
            "INSERT INTO notifications (ticket_id, about, recipient, email, title, body, message_id, link)"
            " SELECT ticket_id, about, recipient, $1, title, body, $2, link FROM notifications"
            " WHERE ticket_id = $3 ORDER BY id LIMIT 1 RETURNING id",
            "olga@water.example\r\nBcc: spy@evil.example", "<poison@callisto>", first.json()["ticket_id"],
        )  # fmt: skip
        later = []
        for n in range(2):
            made = await http.post(
                "/api/v1/tickets",
                json={"subject": f"Leak {n}", "category_id": "meter-fault", "assignee": "agent-1"},
                headers=operator,
            )
            later.append(made.json()["number"])
        mails = await box.wait_for(olga, 3, timeout=20)  # the ones behind the poison go out
        assert sorted(m["Subject"] for m in mails[1:]) == sorted(
            f"[#{n}] Ticket {n} is assigned to you" for n in later
        )
        assert not [m for m in box.mails if "spy@evil.example" in str(m)]

        async def given_up() -> bool:
            listed = await http.get("/api/v1/notifications/dead", headers=admin)
            return any(row["id"] == poison for row in listed.json())

        await eventually(given_up, timeout=10)
        (dead,) = [
            r
            for r in (await http.get("/api/v1/notifications/dead", headers=admin)).json()
            if r["id"] == poison
        ]
        assert "ValueError" in dead["last_error"]
        assert "callisto_helpdesk_notifications_dead_total 1.0" in (await http.get("/metrics")).text
        desk_only = token_issuer.bearer("helpdesk.tickets.#")
        assert (await http.get("/api/v1/notifications/dead", headers=desk_only)).status_code == 403

        await pool.execute("UPDATE notifications SET email = $2 WHERE id = $1", poison, "olga@water.example")
        retried = await http.post(f"/api/v1/notifications/{poison}/retry", headers=admin)
        assert retried.status_code == 200 and retried.json() == {"id": poison, "queued": True}
        (fixed,) = await box.wait_for("olga@water.example", 1)
        assert fixed["Message-ID"] == "<poison@callisto>"
        assert (await http.post(f"/api/v1/notifications/{poison}/retry", headers=admin)).status_code == 404

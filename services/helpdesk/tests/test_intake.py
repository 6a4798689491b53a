"""Intake against real PostgreSQL, NATS and SMTP: Prometheus Alertmanager webhooks become tickets
(one per fingerprint, priority from severity, resolved alerts annotate, critical ones reach
management, unclassified ones wait in triage, malformed ones write nothing; the rules changed at run
time); inbound mail opens
tickets and replies thread into them, with attachments."""

from __future__ import annotations

import asyncio
from email.message import EmailMessage
from typing import Any

import aiosmtplib
import httpx
import pytest
from bus_testing import connected_bus
from helpdesk_testing import eventually, helpdesk, mailbox, ticket_when

from callisto_devkit.configuration import document_figure, read_version, write_version
from callisto_devkit.issuer import TestIssuer
from callisto_devkit.processes import free_port
from callisto_devkit.servers import NatsServer
from callisto_protocol.configuration import ConfigValid, ValidateConfig
from callisto_runtime import RemoteError

pytestmark = pytest.mark.integration
STARTS = "2026-11-20T10:00:00Z"
RULES = "helpdesk.alert-rules"


def alert(name: str, fingerprint: str, status: str = "firing", **labels: str) -> dict[str, Any]:
    return {
        "status": status, "labels": {"alertname": name, **labels},
        "annotations": {"summary": f"{name} on db-1", "description": "<img src=x onerror=alert(1)>"},
        "startsAt": STARTS,
        "endsAt": "2026-11-20T11:00:00Z" if status == "resolved" else "0001-01-01T00:00:00Z",
        "generatorURL": "http://prometheus:9090/graph", "fingerprint": fingerprint,
    }  # fmt: skip


def webhook(*alerts: dict[str, Any]) -> dict[str, Any]:
    return {
        "version": "4", "groupKey": "{}:{alertname=\"x\"}", "truncatedAlerts": 0,
        "status": alerts[0]["status"],
        "receiver": "callisto", "groupLabels": {}, "commonLabels": {}, "commonAnnotations": {},
        "externalURL": "http://alertmanager:9093", "alerts": list(alerts),
    }  # fmt: skip


async def test_alertmanager_alerts_become_tickets(
    private_nats: NatsServer, postgres_database: str, token_issuer: TestIssuer
) -> None:
    alertmanager = token_issuer.bearer("helpdesk.intake.alerts", subject="svc-alertmanager")
    reader = token_issuer.bearer("helpdesk.tickets.read")
    async with (
        mailbox() as box,
        helpdesk(private_nats.url, postgres_database, smtp_port=box.port) as (http, _, _),
    ):

        async def post(body: Any) -> httpx.Response:
            return await http.post("/api/v1/intake/alertmanager", json=body, headers=alertmanager)

        async def tickets() -> list[dict[str, Any]]:
            found: list[dict[str, Any]] = (await http.get("/api/v1/tickets", headers=reader)).json()
            return found

        for bad in (
            {"version": "4"},
            {**webhook(alert("X", "ab12")), "version": "3"},
            webhook({**alert("X", "ab12"), "fingerprint": "not hex!"}),
            webhook({**alert("X", "ab12"), "status": "exploded"}),
            {**webhook(alert("X", "ab12")), "alerts": []},
            webhook(alert("Fine", "cd34"), {**alert("X", "ab12"), "startsAt": "yesterday"}),  # one bad of two
        ):
            reply = await post(bad)
            assert reply.status_code == 422, reply.text
            assert reply.json()["error_id"] == "malformed-alert" and reply.json()["details"]["errors"]
        raw = await http.post("/api/v1/intake/alertmanager", content=b"{not json", headers=alertmanager)
        assert raw.status_code == 422
        assert await tickets() == []  # nothing half-written
        assert (await http.post("/api/v1/intake/alertmanager", json=webhook(alert("X", "ab12")),
                                headers=reader)).status_code == 403  # fmt: skip

        down = alert("PostgresDown", "a1", severity="critical")
        replies = await asyncio.gather(*(post(webhook(down)) for _ in range(5)))  # Alertmanager retrying
        assert {r.json()["alerts"][0]["outcome"] for r in replies} == {"opened", "repeated"}
        [opened] = await tickets()
        assert (opened["channel"], opened["priority"], opened["category_id"], opened["department"]) == (
            "monitoring",
            1,
            "alert-service",
            "it-operations",
        )
        assert opened["subject"] == "[critical] PostgresDown: PostgresDown on db-1"
        assert "<img src=x onerror=alert(1)>" in opened["description"]  # stored as given
        management = await box.wait_for("elena.morozova@water.example")
        assert "Critical alert" in management[0]["Subject"]
        await box.wait_for("andrei.lebedev@water.example")

        disk = alert("DiskAlmostFull", "b2", severity="warning")
        odd = alert("SomethingOdd", "c3", severity="info")
        third = (await post(webhook(disk, odd))).json()["alerts"]
        assert [a["outcome"] for a in third] == ["opened", "opened"]
        by_id = {t["ticket_id"]: t for t in await tickets()}
        assert (by_id[third[0]["ticket_id"]]["category_id"], by_id[third[0]["ticket_id"]]["priority"]) == (
            "alert-capacity",
            3,
        )
        assert (by_id[third[1]["ticket_id"]]["category_id"], by_id[third[1]["ticket_id"]]["priority"]) == (
            "triage",
            5,
        )  # no rule knows it: a human looks

        resolved = (await post(webhook(alert("PostgresDown", "a1", "resolved", severity="critical")))).json()
        assert resolved["alerts"][0]["outcome"] == "resolved"
        again = (await post(webhook(alert("PostgresDown", "a1", "resolved", severity="critical")))).json()
        assert again["alerts"][0]["outcome"] == "ignored"
        refire = {**alert("PostgresDown", "a1", severity="critical"), "startsAt": "2026-11-20T12:00:00Z"}
        assert (await post(webhook(refire))).json()["alerts"][0]["outcome"] == "fired_again"
        full = (await http.get(f"/api/v1/tickets/{opened['ticket_id']}", headers=reader)).json()
        notes = [c["body"] for c in full["comments"]]
        assert notes[0].startswith("The alert resolved at 2026-11-20T11:00:00")
        assert notes[1].startswith("The alert fires again since 2026-11-20T12:00:00")
        assert not any(c["public"] for c in full["comments"])
        assert full["state"] == "new"  # people resolve it, having looked
        assert full["actions"] == ["assign", "merge"]  # what the desk may offer a new ticket
        assert len(await tickets()) == 3
        metrics = (await http.get("/metrics")).text
        assert 'callisto_helpdesk_alerts_total{outcome="opened"} 3.0' in metrics

        # the rules are the document helpdesk.alert-rules: a new version takes the next alert
        rules, _ = await read_version(private_nats.url, RULES)
        odd_rule = {"match": {"alertname": "SomethingOdd"}, "category": "alert-server"}
        gone_rule = {"match": {"alertname": "Vanished"}, "category": "no-such-category"}
        changed = {**rules.body, "rules": [odd_rule, gone_rule, *rules.body["rules"]]}
        version = await write_version(private_nats.url, RULES, changed, "odd things are servers")
        await eventually(lambda: _applied(http, version))
        later = (await post(webhook(alert("SomethingOdd", "d4"), alert("Vanished", "e5")))).json()["alerts"]
        by_id = {t["ticket_id"]: t for t in await tickets()}
        assert by_id[later[0]["ticket_id"]]["category_id"] == "alert-server"
        assert by_id[later[1]["ticket_id"]]["category_id"] == "triage"  # its rule's category does not exist
        # a pattern that is no regular expression: refused by helpdesk with the reason
        broken = {**changed, "rules": [{"match": {"alertname": "(unclosed"}, "category": "alert-server"}]}
        async with connected_bus(private_nats.url, "core-bus", "rules-test") as bus:
            check = ValidateConfig(service="helpdesk", document=RULES, body=broken)
            with pytest.raises(RemoteError) as refused:
                await bus.call(check, ConfigValid, token=token_issuer.token("config.write"), timeout=5)
        assert refused.value.error_id == "invalid-config"
        assert "'(unclosed' is not a regular expression" in refused.value.message


async def _applied(http: httpx.AsyncClient, version: int) -> bool:
    return document_figure((await http.get("/metrics")).text, RULES) == version


def mail(sender: str, subject: str, text: str, **headers: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = "support@water.example"
    message["Subject"] = subject
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content(text)
    return message


async def test_mail_opens_tickets_and_replies_thread_into_them(
    private_nats: NatsServer, postgres_database: str, token_issuer: TestIssuer
) -> None:
    operator = token_issuer.bearer("helpdesk.#")
    intake = free_port()
    settings = {"intake_smtp_port": intake, "max_attachment_bytes": 100_000}
    async with (
        mailbox() as box,
        helpdesk(private_nats.url, postgres_database, smtp_port=box.port, **settings) as (http, _, book),
    ):

        async def send(message: EmailMessage) -> None:
            await aiosmtplib.send(message, hostname="127.0.0.1", port=intake)

        ivan = (await book.lookup("+7 916 555-12-34")).contact
        assert ivan is not None
        first = mail("Ivan Petrov <Ivan.Petrov@example.net>", "No hot water", "Since yesterday, flat 9.",
                     Message_ID="<m1@example.net>")  # fmt: skip
        photo = b"\x89PNG fake image bytes"
        first.add_attachment(photo, maintype="image", subtype="png", filename="boiler.png")
        await send(first)
        ack = (await box.wait_for("ivan.petrov@example.net"))[0]
        tickets = (await http.get("/api/v1/tickets", headers=operator)).json()
        [ticket] = tickets
        assert (ticket["channel"], ticket["contact_id"], ticket["subject"]) == (
            "email",
            ivan.contact_id,
            "No hot water",
        )
        assert ack["Subject"] == f"[#{ticket['number']}] We received your request: No hot water"
        tid = ticket["ticket_id"]
        for step in (
            {"action": "assign", "assignee": "agent-1"},
            {"action": "start"},
            {"action": "pend", "pending_on": "customer", "note": "asked for the meter number"},
        ):
            assert (
                await http.post(f"/api/v1/tickets/{tid}/actions", json=step, headers=operator)
            ).status_code == 200

        quoted = "Meter 778812.\n\n> Your request is registered"
        reply = mail(
            "ivan.petrov@example.net", f"Re: {ack['Subject']}", quoted, In_Reply_To=ack["Message-ID"]
        )
        await send(reply)
        answered = await ticket_when(http, tid, operator, lambda t: len(t["comments"]) >= 1)
        assert answered["comments"][0]["body"] == "Meter 778812." and answered["comments"][0]["public"]
        assert answered["state"] == "in_progress"  # the customer answered: back to work
        assert answered["actions"] == ["assign", "pend", "resolve", "merge"]
        [attached] = answered["attachments"]
        assert (attached["name"], attached["size"], attached["kind"]) == ("boiler.png", len(photo), "file")
        got = await http.get(
            f"/api/v1/tickets/{tid}/attachments/{attached['attachment_id']}", headers=operator
        )
        assert got.content == photo

        tagged = mail("someone@else.example", f"About [#{ticket['number']}]", "I have the same problem.")
        await send(tagged)
        await ticket_when(http, tid, operator, lambda t: len(t["comments"]) >= 2)
        html_only = EmailMessage()
        html_only["From"], html_only["To"] = "anna@example.com", "support@water.example"
        html_only["Subject"] = "Leak <b>outside</b>"
        html_only.set_content("<p>Water <script>x()</script>on the road</p>", subtype="html")
        await send(html_only)
        listed = await eventually(lambda: _count_tickets(http, operator, 2))
        leak = next(t for t in listed if t["ticket_id"] != tid)
        assert leak["description"] == "Water x()on the road" and leak["contact_id"] is None

        huge = mail("ivan.petrov@example.net", "Scan", "see attached")
        huge.add_attachment(b"x" * 300_000, maintype="application", subtype="pdf", filename="scan.pdf")
        with pytest.raises(aiosmtplib.SMTPResponseException) as refused:
            await send(huge)
        assert refused.value.code == 552
        assert len((await http.get("/api/v1/tickets", headers=operator)).json()) == 2  # nothing written


async def _count_tickets(
    http: httpx.AsyncClient, headers: dict[str, str], n: int
) -> list[dict[str, Any]] | None:
    found: list[dict[str, Any]] = (await http.get("/api/v1/tickets", headers=headers)).json()
    return found if len(found) >= n else None


async def test_a_mail_is_taken_once_whatever_its_retries_and_bad_names(
    private_nats: NatsServer, postgres_database: str, token_issuer: TestIssuer
) -> None:
    """Reproduced before: an attachment whose name PostgreSQL refused (a NUL) got 451 after the ticket
    and the acknowledgement existed, so each retry of the sending server opened another ticket."""
    operator = token_issuer.bearer("helpdesk.#")
    intake = free_port()
    settings = {"intake_smtp_port": intake, "max_attachment_bytes": 100_000}
    async with (
        mailbox() as box,
        helpdesk(private_nats.url, postgres_database, smtp_port=box.port, **settings) as (http, _, _),
    ):
        message = mail("olga@example.net", "SUBJECT", "Water everywhere.", Message_ID="<m9@example.net>")
        message.add_attachment(b"photo", maintype="image", subtype="png", filename="NAME")
        raw = (
            message.as_bytes()  # decoded, the subject holds CR/LF and the file name NUL and ESC
            .replace(b"Subject: SUBJECT", b"Subject: =?utf-8?q?Broken=0D=0A_pipe?=")
            .replace(b'filename="NAME"', b'filename="=?utf-8?q?=2E=2E/=2E=2E/etc/pa=00ss=1B.png?="')
        )
        for _ in range(3):  # the sending server is not sure it was taken, and sends again
            answer = await aiosmtplib.send(
                raw, sender="olga@example.net", recipients=["support@water.example"],
                hostname="127.0.0.1", port=intake,
            )  # fmt: skip
            assert answer[1].startswith("2.0.0 stored in ticket"), answer
        [ticket] = await eventually(lambda: _count_tickets(http, operator, 1))
        full = (await http.get(f"/api/v1/tickets/{ticket['ticket_id']}", headers=operator)).json()
        assert full["subject"] == "Broken pipe"
        [attached] = full["attachments"]
        assert attached["name"] == "_.._etc_pa ss .png"  # no folders, no control characters
        assert len(await box.wait_for("olga@example.net", 1)) == 1  # one acknowledgement
        assert len((await http.get("/api/v1/tickets", headers=operator)).json()) == 1

"""The notification loop: every notification of the outbox is published on the bus (the operator
client shows it) and, when its recipient has an address, mailed over SMTP (text and HTML, the HTML
escaped: ticket text is the customer's). A mail the server does not take is tried again later with
a growing pause, ``MAX_ATTEMPTS`` times; one that cannot be composed at all, or that ran out of
tries, is given up (``dead_at``, with the reason, counted) and never holds up the others: each row is
delivered in its own savepoint. An administrator lists the dead ones and sends them again
(``/api/v1/notifications``). Rows are claimed with ``FOR UPDATE SKIP LOCKED``, so instances never
send one twice."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import formatdate
from typing import Any

import aiosmtplib
from jinja2 import Environment, PackageLoader, select_autoescape

from callisto_helpdesk.metrics import HelpdeskMetrics
from callisto_helpdesk.notices import mail_subject
from callisto_protocol.tickets import TicketNotification
from callisto_runtime import Bus
from callisto_runtime.database import Database
from callisto_runtime.failures import is_transient

log = logging.getLogger(__name__)

BATCH = 50
MAX_PAUSE_S = 600.0
MAX_ATTEMPTS = 30  # about four hours of a mail server refusing, at the longest pause
DUE = """
SELECT n.*, t.number, t.subject AS ticket_subject, t.state AS ticket_state FROM notifications n
JOIN tickets t ON t.id = n.ticket_id
WHERE n.next_attempt_at <= now() AND n.dead_at IS NULL
  AND (n.published_at IS NULL OR (n.email IS NOT NULL AND n.sent_at IS NULL))
ORDER BY n.id LIMIT $1 FOR UPDATE OF n SKIP LOCKED
"""
templates = Environment(
    loader=PackageLoader("callisto_helpdesk", "templates"), autoescape=select_autoescape(default=True)
)


class MailRefused(Exception):
    """The mail server refused a notification too many times."""


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    sender: str
    reply_to: str | None = None
    username: str | None = None
    password: str | None = None
    start_tls: bool = False


def compose(row: dict[str, Any], smtp: SmtpSettings) -> EmailMessage:
    mail = EmailMessage()
    mail["From"] = smtp.sender
    mail["To"] = row["email"]
    mail["Subject"] = mail_subject(row["number"], row["title"])
    mail["Message-ID"] = row["message_id"]
    mail["Date"] = formatdate(localtime=False)
    if smtp.reply_to:
        mail["Reply-To"] = smtp.reply_to
    link = f"\n\n{row['link']}" if row["link"] else ""
    mail.set_content(f"{row['body']}{link}\n\n-- \nTicket {row['number']}: {row['ticket_subject']}\n")
    mail.add_alternative(templates.get_template("notification.html").render(**row), subtype="html")
    return mail


class Mailer:
    def __init__(self, database: Database, bus: Bus, smtp: SmtpSettings, metrics: HelpdeskMetrics) -> None:
        self.db = database
        self.bus = bus
        self.smtp = smtp
        self.metrics = metrics

    async def tick(self) -> int:
        """Publish and mail what is due; how many notifications were handled."""
        async with self.db.pool.acquire() as conn, conn.transaction():
            rows = [dict(r) for r in await conn.fetch(DUE, BATCH)]
            for row in rows:
                try:
                    async with conn.transaction():  # a savepoint: one row's failure stays its own
                        await self._deliver(conn, row)
                except Exception as exc:
                    if is_transient(exc):
                        raise
                    await self._give_up(conn, row, f"{type(exc).__name__}: {exc}")
        return len(rows)

    async def _give_up(self, conn: Any, row: dict[str, Any], reason: str) -> None:
        log.error("notification %s to %s given up: %s", row["id"], row["recipient"], reason)
        self.metrics.notifications_dead.inc()
        await conn.execute(
            "UPDATE notifications SET dead_at = now(), last_error = $2 WHERE id = $1", row["id"], reason[:500]
        )

    async def dead(self, limit: int) -> list[dict[str, Any]]:
        rows = await self.db.pool.fetch(
            "SELECT id, ticket_id, recipient, email, title, attempts, last_error, dead_at FROM notifications"
            " WHERE dead_at IS NOT NULL ORDER BY dead_at DESC LIMIT $1",
            limit,
        )
        return [dict(r) for r in rows]

    async def retry(self, notification_id: int) -> bool:
        """Put a dead notification back into the loop; False when there is no such dead one."""
        done = await self.db.pool.execute(
            "UPDATE notifications SET dead_at = NULL, attempts = 0, next_attempt_at = now()"
            " WHERE id = $1 AND dead_at IS NOT NULL",
            notification_id,
        )
        return bool(done.endswith(" 1"))

    async def _deliver(self, conn: Any, row: dict[str, Any]) -> None:
        now = datetime.now(UTC)
        published, sent, error = row["published_at"], row["sent_at"], None
        if published is None and self.bus.connected:
            await self.bus.publish(
                TicketNotification(
                    notification_id=row["id"], ticket_id=row["ticket_id"], number=row["number"],
                    about=row["about"], recipient=row["recipient"], title=row["title"], target=row["target"],
                    level=row["level"],
                ),
                correlation_id=row["ticket_id"],
            )  # fmt: skip
            published = now
        if row["email"] and sent is None:
            try:
                await aiosmtplib.send(
                    compose(row, self.smtp), hostname=self.smtp.host, port=self.smtp.port,
                    username=self.smtp.username, password=self.smtp.password, start_tls=self.smtp.start_tls,
                    timeout=10,
                )  # fmt: skip
                sent = now
                self.metrics.mail_sent.inc()
            except (aiosmtplib.SMTPException, OSError) as failure:
                error = f"{type(failure).__name__}: {failure}"[:500]
                self.metrics.mail_failed.inc()
                log.warning("mail %s to %s not sent: %s", row["id"], row["email"], error)
        attempts = row["attempts"] + (1 if error or published is None else 0)
        if error and attempts >= MAX_ATTEMPTS:
            raise MailRefused(f"the mail server did not take it in {attempts} tries; last: {error}")
        pause = min(MAX_PAUSE_S, 2.0**attempts)
        await conn.execute(
            "UPDATE notifications SET published_at = $2, sent_at = $3, attempts = $4, last_error = $5,"
            " next_attempt_at = $6 WHERE id = $1",
            row["id"], published, sent, attempts, error or row["last_error"],
            now + timedelta(seconds=pause) if error or published is None else now,
        )  # fmt: skip

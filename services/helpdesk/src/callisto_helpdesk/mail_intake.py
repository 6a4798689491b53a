"""Inbound e-mail: an SMTP endpoint (aiosmtpd, in the service's own event loop) where customers'
mail arrives (the MX or a forwarding rule points at it).

A reply threads into its ticket: by the Message-IDs it answers (``In-Reply-To``, ``References``:
every mail helpdesk sends or receives about a ticket is remembered) or by ``[#number]`` in the
subject. It becomes a public comment by the sender, its files attachments; a ticket that waited for
the customer goes back to work. Any other mail opens a ticket (channel e-mail, the contact found by
address, classified like any new ticket) and the sender is told its number. A mail that cannot be
stored now is answered 451, so the sending server tries again later: nothing is lost. Mail over the
size limit is refused during DATA (552).
"""

from __future__ import annotations

import asyncio
import logging
import re
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import parseaddr
from html.parser import HTMLParser
from typing import Any

from aiosmtpd.smtp import SMTP, Envelope, Session

from callisto_helpdesk.attachments import Attachments, Kind
from callisto_helpdesk.desk import TicketDesk
from callisto_helpdesk.errors import HelpdeskError
from callisto_helpdesk.lifecycle import Action, TicketState
from callisto_helpdesk.metrics import HelpdeskMetrics
from callisto_helpdesk.notices import Notices
from callisto_helpdesk.tickets import ActionIn, CommentIn, TicketIn

log = logging.getLogger(__name__)

NUMBER_TAG = re.compile(r"\[#(\d{1,12})\]")
MESSAGE_ID = re.compile(r"<[^<>\s]{1,250}>")
REPLY_PREFIX = re.compile(r"^\s*((re|fwd?|aw|ответ)\s*:\s*)+", re.IGNORECASE)
QUOTED = re.compile(r"\n(>.*\n?)+\s*$|\nOn .{5,200} wrote:\s*$", re.DOTALL)


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def text_of(mail: EmailMessage) -> str:
    """The mail's text: its plain part, else its HTML part stripped of tags (never kept as HTML)."""
    part = mail.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    content = part.get_content()
    if part.get_content_type() == "text/html":
        stripped = _Text()
        stripped.feed(content)
        content = "".join(stripped.parts)
    return str(content).strip()


class MailIntake:
    def __init__(
        self, desk: TicketDesk, attachments: Attachments, notices: Notices, metrics: HelpdeskMetrics
    ) -> None:
        self.desk = desk
        self.attachments = attachments
        self.notices = notices
        self.metrics = metrics

    # aiosmtpd handler hooks ------------------------------------------------------------------
    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802
        content = envelope.original_content or envelope.content
        if not isinstance(content, bytes):
            return "554 5.6.0 unreadable message"
        try:
            ticket_id = await self.receive(content, envelope.mail_from or "")
        except HelpdeskError as refused:
            return f"550 5.6.0 {refused}"
        except (TimeoutError, OSError, ConnectionError) as failure:
            log.warning("mail not stored now: %s", failure)
            return "451 4.3.0 try again later"
        except Exception:
            log.exception("mail not stored")
            return "451 4.3.0 try again later"
        self.metrics.mail_received.inc()
        return f"250 2.0.0 stored in ticket {ticket_id}"

    # the mail itself -----------------------------------------------------------------------------
    async def receive(self, raw: bytes, envelope_from: str) -> str:
        mail = BytesParser(policy=policy.default).parsebytes(raw)
        assert isinstance(mail, EmailMessage)
        sender = (parseaddr(str(mail.get("From", "")))[1] or envelope_from).lower()
        subject = REPLY_PREFIX.sub("", str(mail.get("Subject", "")).strip()) or "(no subject)"
        message_id = str(mail.get("Message-ID", "")).strip() or None
        ticket_id = await self._thread(mail)
        body = text_of(mail)
        author = f"email:{sender}"[:100]
        if ticket_id is not None:
            reply = QUOTED.sub("", body).strip() or body or "(empty reply)"
            await self.desk.comment(ticket_id, CommentIn(body=reply[:20000], public=True), author)
            ticket = await self.desk.store.get(ticket_id)
            if ticket.state == TicketState.PENDING and ticket.pending_on == "customer":
                await self.desk.act(
                    ticket_id, ActionIn(action=Action.RESUME, note="the customer answered"), author
                )
        else:
            contact_id = await self.desk.store.db.pool.fetchval(
                "SELECT id FROM contacts WHERE emails @> ARRAY[$1::text] ORDER BY id LIMIT 1", sender
            )  # addresses are kept in lower case
            opened = TicketIn(
                subject=subject[:200], description=body[:20000], channel="email", contact_id=contact_id
            )
            ticket = await self.desk.open(opened, author, also=self._acknowledge(sender))
            ticket_id = ticket.ticket_id
        await self._remember(message_id, ticket_id)
        await self._attach(mail, ticket_id, author)
        return ticket_id

    async def _thread(self, mail: EmailMessage) -> str | None:
        answered = MESSAGE_ID.findall(f"{mail.get('In-Reply-To', '')} {mail.get('References', '')}")
        pool = self.desk.store.db.pool
        if answered:
            found: str | None = await pool.fetchval(
                "SELECT ticket_id FROM ticket_mail WHERE message_id = ANY($1::text[]) LIMIT 1", answered
            )
            if found is not None:
                return found
        tag = NUMBER_TAG.search(str(mail.get("Subject", "")))
        if tag:
            numbered: str | None = await pool.fetchval(
                "SELECT id FROM tickets WHERE number = $1 AND state NOT IN ('closed', 'merged')",
                int(tag.group(1)),
            )
            return numbered
        return None

    def _acknowledge(self, sender: str) -> Any:
        async def tell(conn: Any, _: Any, row: Any) -> None:
            await self.notices.add(
                conn, row, "received", [sender], f"We received your request: {row['subject']}",
                f"Your request is registered as number {row['number']}. Reply to this mail to add to it.",
            )  # fmt: skip

        return tell

    async def _remember(self, message_id: str | None, ticket_id: str) -> None:
        if message_id and MESSAGE_ID.fullmatch(message_id):
            await self.desk.store.db.pool.execute(
                "INSERT INTO ticket_mail (message_id, ticket_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                message_id, ticket_id,
            )  # fmt: skip

    async def _attach(self, mail: EmailMessage, ticket_id: str, author: str) -> None:
        for part in mail.iter_attachments():
            assert isinstance(part, EmailMessage)
            data = part.get_payload(decode=True)
            if not isinstance(data, bytes):
                continue
            if len(data) > self.attachments.max_bytes:
                await self.desk.comment(
                    ticket_id,
                    CommentIn(body=f"An attachment of {len(data)} bytes was over the limit and is not kept."),
                    "helpdesk",
                )
                continue
            kind: Kind = "voice-note" if part.get_content_maintype() == "audio" else "file"
            name = (part.get_filename() or "attachment")[:255]
            await self.attachments.add(ticket_id, kind, name, part.get_content_type(), data, author)


async def serve_smtp(intake: MailIntake, host: str, port: int, max_bytes: int) -> asyncio.Server:
    """The SMTP endpoint in the running loop."""
    loop = asyncio.get_running_loop()
    return await loop.create_server(
        lambda: SMTP(intake, data_size_limit=max_bytes, hostname="callisto-helpdesk", loop=loop), host, port
    )

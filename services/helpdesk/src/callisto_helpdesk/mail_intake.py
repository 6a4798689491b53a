"""Inbound e-mail: an SMTP endpoint (aiosmtpd, in the service's own event loop) where customers'
mail arrives (the MX or a forwarding rule points at it).

A reply threads into its ticket: by the Message-IDs it answers (``In-Reply-To``, ``References``:
every mail helpdesk sends or receives about a ticket is remembered) or by ``[#number]`` in the
subject. It becomes a public comment by the sender, its files attachments; a ticket that waited for
the customer goes back to work. Any other mail opens a ticket (channel e-mail, the contact found by
address, classified like any new ticket) and the sender is told its number.

A mail is read whole before anything is written (large ones off the event loop); its file names are
cleaned (no control characters, no folders). What it does happens once per Message-ID, whatever the
sender's retries: the ticket, its acknowledgement and the mail's id are written in one transaction
(a reply's comment with the id likewise), and its attachments are kept once each. A mail that cannot
be stored now (PostgreSQL away) gets 451, so the sending server tries again later and the retry goes
on where this one stopped: nothing is lost, nothing doubled. A mail that can never be stored gets
550. Mail over the size limit is refused during DATA (552).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
from dataclasses import dataclass
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
from callisto_helpdesk.notices import Notices, one_line
from callisto_helpdesk.tickets import ActionIn, CommentIn, TicketIn
from callisto_runtime.failures import is_transient

log = logging.getLogger(__name__)

NUMBER_TAG = re.compile(r"\[#(\d{1,12})\]")
MESSAGE_ID = re.compile(r"<[^<>\s]{1,250}>")
PARSE_OFF_LOOP_BYTES = 256 * 1024  # bigger mails are parsed in a thread: the service keeps answering
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
            return f"550 5.6.0 {one_line(str(refused))[:200]}"
        except Exception as failure:
            if is_transient(failure):
                log.warning("mail not stored now: %r", failure)
                return "451 4.3.0 try again later"
            log.exception("mail refused: it cannot be stored")
            return "550 5.6.0 the message cannot be stored"
        self.metrics.mail_received.inc()
        return f"250 2.0.0 stored in ticket {ticket_id}"

    # the mail itself -----------------------------------------------------------------------------
    async def receive(self, raw: bytes, envelope_from: str) -> str:
        if len(raw) > PARSE_OFF_LOOP_BYTES:
            letter = await asyncio.to_thread(Letter.read, raw, envelope_from)
        else:
            letter = Letter.read(raw, envelope_from)
        seen: str | None = await self.desk.store.db.pool.fetchval(
            "SELECT ticket_id FROM ticket_mail WHERE message_id = $1", letter.message_id
        )  # a retry of a mail whose ticket or comment exists: only what is missing is done
        ticket_id = seen or await self._thread(letter.mail)
        author = f"email:{letter.sender}"[:100]
        if seen is None and ticket_id is not None:
            reply = QUOTED.sub("", letter.body).strip() or letter.body or "(empty reply)"
            await self.desk.comment(ticket_id, CommentIn(body=reply[:20000], public=True), author)
            await self._remember(letter.message_id, ticket_id)
            ticket = await self.desk.store.get(ticket_id)
            if ticket.state == TicketState.PENDING and ticket.pending_on == "customer":
                await self.desk.act(
                    ticket_id, ActionIn(action=Action.RESUME, note="the customer answered"), author
                )
        elif ticket_id is None:
            contact_id = await self.desk.store.db.pool.fetchval(
                "SELECT id FROM contacts WHERE emails @> ARRAY[$1::text] ORDER BY id LIMIT 1", letter.sender
            )  # addresses are kept in lower case
            opened = TicketIn(
                subject=letter.subject[:200], description=letter.body[:20000], channel="email",
                contact_id=contact_id,
            )  # fmt: skip
            ticket = await self.desk.open(opened, author, also=self._acknowledge(letter))
            ticket_id = ticket.ticket_id
        await self._attach(letter, ticket_id, author)
        return ticket_id

    async def _thread(self, mail: EmailMessage) -> str | None:
        """The ticket a reply belongs to, or None for a new request."""
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

    def _acknowledge(self, letter: Letter) -> Any:
        """In the new ticket's transaction: the acknowledgement, and the mail's id (so a retry of the
        same mail finds this ticket instead of opening another)."""

        async def tell(conn: Any, _: Any, row: Any) -> None:
            await self.notices.add(
                conn, row, "received", [letter.sender], f"We received your request: {row['subject']}",
                f"Your request is registered as number {row['number']}. Reply to this mail to add to it.",
            )  # fmt: skip
            await conn.execute(REMEMBER, letter.message_id, row["id"])

        return tell

    async def _remember(self, message_id: str, ticket_id: str) -> None:
        await self.desk.store.db.pool.execute(REMEMBER, message_id, ticket_id)

    async def _attach(self, letter: Letter, ticket_id: str, author: str) -> None:
        kept = {
            (r["name"], r["sha256"])
            for r in await self.desk.store.db.pool.fetch(
                "SELECT name, sha256 FROM attachments WHERE ticket_id = $1", ticket_id
            )
        }  # a retry keeps each file once
        for name, content_type, kind, data in letter.files:
            if len(data) > self.attachments.max_bytes:
                await self.desk.comment(
                    ticket_id,
                    CommentIn(body=f"An attachment of {len(data)} bytes was over the limit and is not kept."),
                    "helpdesk",
                )
                continue
            if (name, hashlib.sha256(data).hexdigest()) not in kept:
                await self.attachments.add(ticket_id, kind, name, content_type, data, author)


REMEMBER = "INSERT INTO ticket_mail (message_id, ticket_id) VALUES ($1, $2) ON CONFLICT DO NOTHING"


def clean_file_name(name: str | None) -> str:
    """A file name as shown and downloaded: no control characters, no folders, never empty."""
    cleaned = one_line(name or "").replace("/", "_").replace("\\", "_").strip(". ")
    return cleaned[:255] or "attachment"


@dataclass(frozen=True)
class Letter:
    """A mail read whole: what intake needs of it, checked before anything is written."""

    mail: EmailMessage
    sender: str
    subject: str
    message_id: str  # the mail's own, or one made from its content: retries carry the same
    body: str
    files: list[tuple[str, str, Kind, bytes]]  # name, content type, kind, data

    @classmethod
    def read(cls, raw: bytes, envelope_from: str) -> Letter:
        mail = BytesParser(policy=policy.default).parsebytes(raw)
        assert isinstance(mail, EmailMessage)
        sender = one_line(parseaddr(str(mail.get("From", "")))[1] or envelope_from).lower()
        subject = one_line(REPLY_PREFIX.sub("", str(mail.get("Subject", "")))) or "(no subject)"
        own_id = str(mail.get("Message-ID", "")).strip()
        message_id = (
            own_id if MESSAGE_ID.fullmatch(own_id) else f"<{hashlib.sha256(raw).hexdigest()}@callisto>"
        )
        files: list[tuple[str, str, Kind, bytes]] = []
        for part in mail.iter_attachments():
            assert isinstance(part, EmailMessage)
            data = part.get_payload(decode=True)
            if isinstance(data, bytes):
                kind: Kind = "voice-note" if part.get_content_maintype() == "audio" else "file"
                files.append((clean_file_name(part.get_filename()), part.get_content_type(), kind, data))
        return cls(mail, sender, subject, message_id, text_of(mail).replace("\x00", ""), files)


async def serve_smtp(intake: MailIntake, host: str, port: int, max_bytes: int) -> asyncio.Server:
    """The SMTP endpoint in the running loop."""
    loop = asyncio.get_running_loop()
    return await loop.create_server(
        lambda: SMTP(intake, data_size_limit=max_bytes, hostname="callisto-helpdesk", loop=loop), host, port
    )

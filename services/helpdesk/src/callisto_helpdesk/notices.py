"""Notifications written into the outbox (table ``notifications``) inside the transaction of what
caused them: a ticket assigned, a deadline near or missed, a resolution to confirm, a critical alert.
``mailer`` publishes and mails them afterwards. Recipients are staff ids (their address from the
staff table; none: told on the bus only) or e-mail addresses (customers)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from callisto_protocol import new_id


def mail_subject(number: int, title: str) -> str:
    """What a mail about ticket ``number`` is called; ``[#number]`` threads replies into it. Control
    characters (a CR/LF from a decoded inbound subject) become spaces: a header is one line."""
    return f"[#{number}] {one_line(title)}"


def one_line(text: str) -> str:
    """``text`` on one line: control characters and runs of white space become one space."""
    return " ".join(_CONTROLS.sub(" ", text).split())


_CONTROLS = re.compile(r"[\x00-\x1f\x7f]+")


class Notices:
    def __init__(self, mail_domain: str) -> None:
        self.mail_domain = mail_domain

    async def add(
        self,
        conn: Any,
        ticket: Mapping[str, Any],
        about: str,
        recipients: Iterable[str | None],
        title: str,
        body: str,
        *,
        target: str | None = None,
        level: int = 0,
        link: str | None = None,
    ) -> list[int]:
        """One notification per distinct recipient; their ids."""
        ids: list[int] = []
        seen: set[str] = set()
        for recipient in recipients:
            if not recipient or recipient in seen:
                continue
            seen.add(recipient)
            email = recipient if "@" in recipient else await conn.fetchval(
                "SELECT email FROM staff WHERE id = $1", recipient
            )  # fmt: skip
            message_id = f"<{new_id()}.{ticket['number']}@{self.mail_domain}>"
            notification_id = await conn.fetchval(
                "INSERT INTO notifications (ticket_id, about, recipient, email, title, body, target, level,"
                " link, message_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
                ticket["id"], about, recipient, email, title[:300], body, target, level, link, message_id,
            )  # fmt: skip
            ids.append(notification_id)
            if email:
                await conn.execute(
                    "INSERT INTO ticket_mail (message_id, ticket_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                    message_id, ticket["id"],
                )  # fmt: skip
        return ids

    @staticmethod
    async def manager_of(conn: Any, staff_id: str | None) -> str | None:
        if staff_id is None:
            return None
        manager: str | None = await conn.fetchval("SELECT manager_id FROM staff WHERE id = $1", staff_id)
        return manager

    @staticmethod
    async def management(conn: Any) -> list[str]:
        return [row["id"] for row in await conn.fetch("SELECT id FROM staff WHERE management ORDER BY id")]

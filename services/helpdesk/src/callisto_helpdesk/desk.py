"""The ticket desk: tickets opened (priority from the matrix, department from the category or the
classifier), moved through their lifecycle, commented, merged, corrected; who is told of it
(notifications in the same transaction); the customer's confirmation; the category tree seeded
from ``categories.yaml``."""

from __future__ import annotations

import hmac
import json
import secrets
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

import yaml

from callisto_helpdesk.attachments import attach_recordings
from callisto_helpdesk.classifier import Suggestion
from callisto_helpdesk.errors import BadConfirmation, IllegalTransition, UnknownCategory
from callisto_helpdesk.lifecycle import OPEN, Action, Level, Lifecycle, TicketState, priority
from callisto_helpdesk.notices import Notices
from callisto_helpdesk.notifier import Notifier
from callisto_helpdesk.sla_engine import ticket_sla
from callisto_helpdesk.sla_policies import PolicyStore
from callisto_helpdesk.store import Store
from callisto_helpdesk.ticket_store import After, TicketStore
from callisto_helpdesk.tickets import ActionIn, CommentIn, Ticket, TicketIn, TicketPatch
from callisto_protocol import new_id

DEFAULT_CATEGORIES = Path(__file__).with_name("categories.yaml")
SYSTEM = "helpdesk"
TRIAGE = "triage"
CategoryRow = tuple[str, str | None, str, str, int]


def flatten(
    tree: list[dict[str, Any]], parent: str | None = None, department: str = TRIAGE
) -> list[CategoryRow]:
    """The tree as rows, parents first; a category without a department has its parent's."""
    rows: list[CategoryRow] = []
    for position, node in enumerate(tree):
        own = node.get("department", department)
        rows.append((node["id"], parent, node["name"], own, position))
        rows.extend(flatten(node.get("children", []), node["id"], own))
    return rows


def read_categories(path: Path = DEFAULT_CATEGORIES) -> list[CategoryRow]:
    return flatten(yaml.safe_load(path.read_text()))


class Classify(Protocol):
    def __call__(self, text: str) -> Suggestion | None: ...


def no_suggestion(text: str) -> Suggestion | None:
    return None


class TicketDesk:
    def __init__(
        self,
        store: TicketStore,
        contacts: Store,
        notifier: Notifier,
        notices: Notices,
        policies: PolicyStore,
        *,
        public_url: str = "http://127.0.0.1:8107",
        confirmation_timeout_s: float = 3 * 86400,
        now: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.contacts = contacts
        self.notifier = notifier
        self.notices = notices
        self.policies = policies
        self.public_url = public_url.rstrip("/")
        self.confirmation_timeout_s = confirmation_timeout_s
        self.clock = now
        self.classify: Classify = no_suggestion

    async def open(self, body: TicketIn, actor: str, also: After | None = None) -> Ticket:
        """A new ticket. Without a category the classifier's guess routes it when it is confident,
        else the ticket waits in triage with the guess beside it."""
        suggestion = None if body.category_id else self.classify(f"{body.subject}\n{body.description}")
        routed = suggestion is not None and suggestion.confident
        category_id = body.category_id or (suggestion.category_id if suggestion and routed else TRIAGE)
        category = await self.store.category(category_id)
        if category is None:
            raise UnknownCategory(f"no category {category_id!r}", {"category_id": category_id})
        if body.contact_id is not None:
            await self.contacts.get(body.contact_id)  # UnknownContact when there is none
        values = {
            "id": new_id(), "subject": body.subject, "description": body.description,
            "category_id": category_id, "channel": body.channel, "urgency": int(body.urgency),
            "impact": int(body.impact), "priority": priority(body.urgency, body.impact),
            "state": (TicketState.ASSIGNED if body.assignee else TicketState.NEW).value,
            "contact_id": body.contact_id, "department": category["department"], "assignee": body.assignee,
            "created_by": actor, "call_id": body.call_id,
            "suggestion": json.dumps(suggestion.shown(routed)) if suggestion else None,
        }  # fmt: skip
        details = {"classified": suggestion.shown(routed)} if suggestion else {}

        async def tell(conn: Any, old: Any, row: Any) -> None:
            if row["assignee"] and row["assignee"] != actor:
                await self._assigned(conn, row)
            await attach_recordings(conn, row["call_id"])
            if also is not None:
                await also(conn, old, row)

        ticket = await self.store.insert(values, actor, details, tell)
        await self.notifier.ticket(ticket, "created", actor)
        return ticket

    async def act(self, ticket_id: str, body: ActionIn, actor: str) -> Ticket:
        if body.action is Action.MERGE:
            await self._check_merge(ticket_id, body.into)
        now = self.clock()

        def apply(life: Lifecycle) -> dict[str, Any]:
            life.move(body.action, now, assignee=body.assignee, pending_on=body.pending_on)
            extra: dict[str, Any] = {"merged_into": body.into} if body.action is Action.MERGE else {}
            if life.state is TicketState.AWAITING_CONFIRMATION:
                extra["confirm_token"] = secrets.token_urlsafe(24)
                extra["confirm_by"] = datetime.fromtimestamp(now, UTC) + timedelta(
                    seconds=self.confirmation_timeout_s
                )
            elif body.action in (Action.CONFIRM, Action.REJECT, Action.EXPIRE):
                extra["confirm_token"] = extra["confirm_by"] = None
            return extra

        async def tell(conn: Any, old: Any, new: Any) -> None:
            await self._tell(conn, body.action, actor, old, new)

        ticket = await self.store.change(ticket_id, actor, body.action.value, apply, body.note, tell)
        await self.notifier.ticket(ticket, body.action.value, actor)
        if body.action is Action.RESOLVE:  # the customer is asked at once
            asked = ActionIn(action=Action.ASK_CONFIRMATION)
            return await self.act(ticket_id, asked, SYSTEM)
        return ticket

    async def _tell(self, conn: Any, action: Action, actor: str, old: Any, new: Any) -> None:
        """Who hears of a move: a new assignee, the creator when the ticket changes hands, the
        customer when asked to confirm, the assignee when the customer says it is not solved."""
        if action is Action.ASSIGN and new["assignee"] != old["assignee"]:
            await self._assigned(conn, new)
            if new["created_by"] not in (actor, new["assignee"]):
                await self.notices.add(
                    conn, new, "reassigned", [new["created_by"]],
                    f"Ticket {new['number']} is now with {new['assignee']}",
                    f"{new['subject']}\n\nMoved from {old['assignee'] or 'the queue'} to {new['assignee']}.",
                )  # fmt: skip
        elif action is Action.ASK_CONFIRMATION:
            email = await self._customer_email(conn, new["contact_id"])
            link = f"{self.public_url}/confirm/{new['id']}?token={new['confirm_token']}"
            await self.notices.add(
                conn, new, "resolved", [email], f"Your request {new['number']} is resolved: {new['subject']}",
                f"We believe your request is solved. Please confirm, or tell us it is not, at the link below "
                f"by {new['confirm_by']:%Y-%m-%d %H:%M %Z}; it is closed then otherwise.",
                link=link,
            )  # fmt: skip
        elif action in (Action.REJECT, Action.REOPEN):
            why = "The customer says it is not solved." if action is Action.REJECT else "Reopened."
            await self.notices.add(
                conn, new, "reopened", [new["assignee"]], f"Ticket {new['number']} is open again",
                f"{new['subject']}\n\n{why}",
            )  # fmt: skip

    async def _assigned(self, conn: Any, row: Any) -> None:
        await self.notices.add(
            conn, row, "assigned", [row["assignee"]], f"Ticket {row['number']} is assigned to you",
            f"{row['subject']}\n\n{row['description']}\n\nPriority {row['priority']}.",
            link=f"{self.public_url}/api/v1/tickets/{row['id']}",
        )  # fmt: skip

    @staticmethod
    async def _customer_email(conn: Any, contact_id: str | None) -> str | None:
        if contact_id is None:
            return None
        emails: list[str] | None = await conn.fetchval(
            "SELECT emails FROM contacts WHERE id = $1", contact_id
        )
        return emails[0] if emails else None

    async def confirmable(self, ticket_id: str, token: str) -> bool:
        """The ticket awaits its customer's confirmation and ``token`` is the one of its link."""
        expected = await self.store.db.pool.fetchval(
            "SELECT confirm_token FROM tickets WHERE id = $1 AND state = 'awaiting_confirmation'", ticket_id
        )
        return bool(expected) and hmac.compare_digest(expected, token)

    async def confirm(self, ticket_id: str, token: str, solved: bool, comment: str) -> Ticket:
        """The customer's answer through the link of the resolution mail."""
        ticket = await self.store.get(ticket_id)
        if not await self.confirmable(ticket_id, token):
            raise BadConfirmation("this link is no longer valid", {"ticket_id": ticket_id})
        customer = f"customer:{ticket.contact_id or 'unknown'}"
        if comment:
            await self.comment(ticket_id, CommentIn(body=comment, public=True), customer)
        action = Action.CONFIRM if solved else Action.REJECT
        return await self.act(ticket_id, ActionIn(action=action, note=comment[:2000]), customer)

    async def patch(self, ticket_id: str, body: TicketPatch, actor: str) -> Ticket:
        """Correct subject, category (the department follows), urgency or impact (the priority follows)."""
        current = await self.store.get(ticket_id)
        values: dict[str, Any] = {}
        if body.subject is not None:
            values["subject"] = body.subject
        if body.category_id is not None:
            category = await self.store.category(body.category_id)
            if category is None:
                raise UnknownCategory(f"no category {body.category_id!r}", {"category_id": body.category_id})
            values |= {"category_id": body.category_id, "department": category["department"]}
        urgency = body.urgency or Level(current.urgency)
        impact = body.impact or Level(current.impact)
        values |= {"urgency": int(urgency), "impact": int(impact), "priority": priority(urgency, impact)}
        ticket = await self.store.patch(ticket_id, actor, values, body.note)
        await self.notifier.ticket(ticket, "updated", actor)
        return ticket

    async def _check_merge(self, ticket_id: str, into: str | None) -> None:
        if into is None or into == ticket_id:
            raise IllegalTransition("merging needs another ticket to merge into", {"ticket_id": ticket_id})
        kept = await self.store.get(into)
        if TicketState(kept.state) not in OPEN:
            raise IllegalTransition(
                f"ticket {kept.number} is {kept.state}: merge into an open one", {"into": into}
            )

    async def comment(self, ticket_id: str, body: CommentIn, actor: str) -> Ticket:
        ticket = await self.store.comment(new_id(), ticket_id, actor, body.body, body.public)
        await self.notifier.ticket(ticket, "commented", actor)
        return await self.store.get(ticket_id)

    async def get(self, ticket_id: str) -> Ticket:
        """The ticket with its comments, history, attachments and where it stands against its SLA now."""
        ticket = await self.store.get(ticket_id)
        policy = (await self.policies.book()).choose(ticket.category_id, ticket.priority)
        now = datetime.fromtimestamp(self.clock(), UTC)
        return ticket.model_copy(update={"sla": ticket_sla(policy, ticket, now) if policy else None})

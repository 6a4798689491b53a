"""The ticket desk: tickets opened (priority from the matrix, department from the category), moved
through their lifecycle, commented, merged; the category tree seeded from ``categories.yaml``."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from callisto_helpdesk.errors import IllegalTransition, UnknownCategory
from callisto_helpdesk.lifecycle import CLOCK_STOPPED, OPEN, Action, Lifecycle, TicketState, priority
from callisto_helpdesk.notifier import Notifier
from callisto_helpdesk.sla import Policy, clock, read_policies
from callisto_helpdesk.store import Store
from callisto_helpdesk.ticket_store import TicketStore
from callisto_helpdesk.tickets import ActionIn, CommentIn, Ticket, TicketIn
from callisto_protocol import new_id

DEFAULT_CATEGORIES = Path(__file__).with_name("categories.yaml")
DEFAULT_POLICIES = Path(__file__).with_name("sla.yaml")
FIRST_RESPONSES = frozenset({"start", "resolve"})  # or a public comment
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


class TicketDesk:
    def __init__(
        self, store: TicketStore, contacts: Store, notifier: Notifier, now: Callable[[], float] = time.time
    ) -> None:
        self.store = store
        self.contacts = contacts
        self.notifier = notifier
        self.clock = now
        self.policies: dict[int, Policy] = read_policies(DEFAULT_POLICIES)

    async def open(self, body: TicketIn, actor: str) -> Ticket:
        category_id = body.category_id or TRIAGE
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
        }  # fmt: skip
        ticket = await self.store.insert(values, actor)
        await self.notifier.ticket(ticket, "created", actor)
        return ticket

    async def act(self, ticket_id: str, body: ActionIn, actor: str) -> Ticket:
        if body.action is Action.MERGE:
            await self._check_merge(ticket_id, body.into)

        def apply(life: Lifecycle) -> dict[str, Any]:
            life.move(body.action, self.clock(), assignee=body.assignee, pending_on=body.pending_on)
            extra: dict[str, Any] = {"merged_into": body.into} if body.action is Action.MERGE else {}
            return extra

        ticket = await self.store.change(ticket_id, actor, body.action.value, apply, body.note)
        await self.notifier.ticket(ticket, body.action.value, actor)
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
        """The ticket with its comments, history and where it stands against its SLA now."""
        ticket = await self.store.get(ticket_id)
        return ticket.model_copy(update={"sla": self.sla(ticket, datetime.fromtimestamp(self.clock(), UTC))})

    def sla(self, ticket: Ticket, now: datetime) -> dict[str, Any] | None:
        policy = self.policies.get(ticket.priority)
        return ticket_sla(policy, ticket, now) if policy is not None else None


def ticket_sla(policy: Policy, ticket: Ticket, now: datetime) -> dict[str, Any]:
    """First response and resolution against the policy's targets, in business time, the clock
    stopped while the ticket waits (pending), is resolved or closed; from the ticket's history."""
    running: list[tuple[datetime, datetime | None]] = []
    started: datetime | None = None
    responded: datetime | None = None
    for line in ticket.history:
        at: datetime = line["at"]
        if responded is None and (
            line["action"] in FIRST_RESPONSES
            or (line["action"] == "commented" and line["details"].get("public"))
        ):
            responded = at
        stopped = TicketState(line["to_state"]) in CLOCK_STOPPED
        if not stopped and started is None:
            started = at
        elif stopped and started is not None:
            running.append((started, at))
            started = None
    if started is not None:
        running.append((started, None))
    first = (
        [(a, min(b or responded, responded)) for a, b in running if a < responded] if responded else running
    )
    shown: dict[str, Any] = {"priority": ticket.priority}
    for name, intervals, target_s, at in (
        ("first_response", first, policy.targets.first_response_s, responded or now),
        ("resolution", running, policy.targets.resolution_s, now),
    ):
        standing = clock(policy.calendar, intervals, target_s, at, policy.targets.warn_at)
        shown[name] = {
            "target_s": target_s, "used_s": round(standing.used_s, 1), "due": standing.due,
            "standing": standing.standing.value,
        }  # fmt: skip
    shown["first_response"]["met_at"] = responded
    return shown

"""The SLA engine: where each ticket stands against its policy, kept on the ticket row for lists,
and what happens as a deadline nears or passes.

Every change of a ticket asks for a look (``sla_check_at = now()``); a look computes the standing
from the history (the clock stops while the ticket is pending, resolved, awaiting confirmation or
closed), writes it, and sets the next look at the moment the next warning or breach would fall in
business time (none while the clock is stopped). A target that newly reaches warning or breach is a
history line and notifications, in the same transaction: the assignee and their manager are warned;
on a breach the next escalation level is told as well and the ticket climbs one level. Looks take
rows with ``FOR UPDATE SKIP LOCKED``, so instances share the work and never announce twice.

The confirmation timeout lives here too: a ticket awaiting the customer's confirmation past
``confirm_by`` is closed (``expire``).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from callisto_helpdesk.lifecycle import CLOCK_STOPPED, TicketState
from callisto_helpdesk.metrics import HelpdeskMetrics
from callisto_helpdesk.notices import Notices
from callisto_helpdesk.sla import Policy, Standing, clock
from callisto_helpdesk.sla_policies import PolicyBook, PolicyStore
from callisto_helpdesk.ticket_store import ticket_from_row, write_history
from callisto_helpdesk.tickets import Ticket
from callisto_runtime.database import Database

log = logging.getLogger(__name__)

FIRST_RESPONSES = frozenset({"start", "resolve"})  # or a public comment
TARGETS = ("first_response", "resolution")
RANK = {Standing.OK.value: 0, Standing.WARNING.value: 1, Standing.BREACHED.value: 2}
BATCH = 200


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
    shown: dict[str, Any] = {"policy_id": policy.policy_id, "priority": ticket.priority}
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


def next_look(policy: Policy, shown: dict[str, Any], now: datetime) -> datetime | None:
    """When the next target running now reaches its warning or its breach."""
    moments = []
    for name in TARGETS:
        target = shown[name]
        if target["due"] is None or target["standing"] == Standing.BREACHED.value:
            continue
        if target["standing"] == Standing.OK.value:
            warn_s = policy.targets.warn_at * target["target_s"] - target["used_s"]
            moments.append(policy.calendar.add(now, max(0.0, warn_s)))
        else:
            moments.append(target["due"])
    return min(moments, default=None)


Expire = Callable[[str], Awaitable[object]]
Tell = Callable[[Ticket, str, str], Awaitable[None]]  # a ticket changed: (ticket, action, actor)


class SlaEngine:
    def __init__(
        self,
        database: Database,
        policies: PolicyStore,
        notices: Notices,
        metrics: HelpdeskMetrics,
        now: Callable[[], float],
        tell: Tell | None = None,
    ) -> None:
        self.tell = tell
        self.db = database
        self.policies = policies
        self.notices = notices
        self.metrics = metrics
        self.clock = now

    async def tick(self) -> int:
        """Look at every ticket that asked for a look; how many were looked at. Tickets that reached a
        warning or a breach are told of once the look is written (the desk's pages show it live)."""
        book = await self.policies.book()
        now = datetime.fromtimestamp(self.clock(), UTC)
        reached: list[tuple[Ticket, str]] = []
        async with self.db.pool.acquire() as conn, conn.transaction():
            rows = await conn.fetch(
                "SELECT * FROM tickets WHERE sla_check_at <= $1 ORDER BY sla_check_at LIMIT $2"
                " FOR UPDATE SKIP LOCKED",
                now, BATCH,
            )  # fmt: skip
            for row in rows:
                action = await self._look(conn, dict(row), book, now)
                if action is not None:
                    reached.append((ticket_from_row(row), action))
        if self.tell is not None:
            for ticket, action in reached:
                try:
                    await self.tell(ticket, action, "helpdesk")
                except Exception:  # the look is written; pages see it at their next ask
                    log.warning("ticket %s: %s not told", ticket.number, action, exc_info=True)
        return len(rows)

    async def _look(self, conn: Any, row: dict[str, Any], book: PolicyBook, now: datetime) -> str | None:
        """Write where the ticket stands; the worst announcement made (sla_warning, sla_breach), if any."""
        policy = book.choose(row["category_id"], row["priority"])
        if policy is None:
            await conn.execute("UPDATE tickets SET sla_check_at = NULL WHERE id = $1", row["id"])
            return None
        history = await conn.fetch(
            "SELECT at, action, to_state, details FROM ticket_history WHERE ticket_id = $1 ORDER BY id",
            row["id"],
        )
        ticket = ticket_from_row(row, history=history)
        shown = ticket_sla(policy, ticket, now)
        stage: dict[str, str] = json.loads(row["sla_stage"])
        level = row["sla_level"]
        escalated_to = row["escalated_to"]
        announced: str | None = None
        for name in TARGETS:
            standing = shown[name]["standing"]
            if RANK[standing] <= RANK[stage.get(name, "ok")]:
                continue
            stage[name] = standing
            breached = standing == Standing.BREACHED.value
            if breached and level < len(policy.escalation):
                escalated_to = policy.escalation[level]
                level += 1
            await self._announce(conn, row, policy, name, standing, shown[name]["due"], level, escalated_to)
            announced = "sla_breach" if breached or announced == "sla_breach" else "sla_warning"
        worst = max((shown[name]["standing"] for name in TARGETS), key=RANK.__getitem__)
        await conn.execute(
            "UPDATE tickets SET sla_policy_id = $2, sla_check_at = $3, sla_stage = $4::jsonb,"
            " sla_standing = $5,"
            " response_due = $6, resolution_due = $7, responded_at = $8, sla_level = $9, escalated_to = $10"
            " WHERE id = $1",
            row["id"], policy.policy_id, next_look(policy, shown, now), json.dumps(stage), worst,
            shown["first_response"]["due"], shown["resolution"]["due"], shown["first_response"]["met_at"],
            level, escalated_to,
        )  # fmt: skip
        return announced

    async def _announce(
        self,
        conn: Any,
        row: dict[str, Any],
        policy: Policy,
        target: str,
        standing: str,
        due: datetime | None,
        level: int,
        escalated_to: str | None,
    ) -> None:
        what = "first response" if target == "first_response" else "resolution"
        breached = standing == Standing.BREACHED.value
        action = "sla_breach" if breached else "sla_warning"
        details = {"target": target, "policy_id": policy.policy_id, "level": level}
        if due is not None:
            details["due"] = due.isoformat()
        await write_history(conn, row["id"], "helpdesk", action, row["state"], row["state"], details)
        title = (
            f"Ticket {row['number']}: the {what} target is missed"
            if breached
            else f"Ticket {row['number']}: the {what} is due at {due:%Y-%m-%d %H:%M %Z}"
            if due
            else f"Ticket {row['number']}: the {what} target is near"
        )
        body = (
            f"{row['subject']}\n\nPriority {row['priority']}, policy {policy.policy_id}, "
            f"state {row['state'].replace('_', ' ')}, assignee {row['assignee'] or 'nobody yet'}."
        )
        manager = await self.notices.manager_of(conn, row["assignee"])
        first_level = policy.escalation[0] if policy.escalation else None
        people = [row["assignee"], manager] if row["assignee"] else [first_level]
        await self.notices.add(conn, row, action, people, title, body, target=target, level=level)
        if breached and escalated_to is not None and level > row["sla_level"]:
            await self.notices.add(
                conn, row, "escalated", [escalated_to], f"Escalated to you (level {level}): {title}", body,
                target=target, level=level,
            )  # fmt: skip
        self.metrics.sla_announced.labels(standing).inc()

    async def expire_confirmations(self, expire: Expire) -> int:
        """Close the tickets whose customer did not answer in time."""
        rows = await self.db.pool.fetch(
            "SELECT id FROM tickets WHERE state = 'awaiting_confirmation' AND confirm_by <= $1 LIMIT $2",
            datetime.fromtimestamp(self.clock(), UTC), BATCH,
        )  # fmt: skip
        for row in rows:
            try:
                await expire(row["id"])
            except Exception:  # confirmed or reopened meanwhile: nothing to do
                log.debug("expiring %s skipped", row["id"], exc_info=True)
        return len(rows)

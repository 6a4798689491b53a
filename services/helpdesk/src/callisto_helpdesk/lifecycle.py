"""A ticket's lifecycle: one state machine (``TRANSITIONS``; ``move`` is the one place a state
changes) and the priority matrix.

    new -> assigned -> in_progress <-> pending (customer / third party: the SLA clock stops)
    in_progress -> resolved -> awaiting_confirmation -> closed   (the customer confirms, or the
                                                                  confirmation time runs out)
    awaiting_confirmation -> in_progress   (the customer says it is not solved)
    closed -> in_progress                  (reopened within the reopen window)
    any open state -> merged               (a duplicate, folded into another ticket)

A ticket is never closed straight from work: closing needs the customer's confirmation or the
timeout, as the hotlines Callisto learns from require.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum, StrEnum

from callisto_helpdesk.errors import IllegalTransition


class TicketState(StrEnum):
    NEW = "new"
    ASSIGNED = "assigned"
    IN_PROGRESS = "in_progress"
    PENDING = "pending"
    RESOLVED = "resolved"
    AWAITING_CONFIRMATION = "awaiting_confirmation"
    CLOSED = "closed"
    MERGED = "merged"


class Action(StrEnum):
    ASSIGN = "assign"
    START = "start"
    PEND = "pend"
    RESUME = "resume"
    RESOLVE = "resolve"
    ASK_CONFIRMATION = "ask_confirmation"
    CONFIRM = "confirm"
    REJECT = "reject"  # the customer: not solved
    EXPIRE = "expire"  # nobody confirmed in time
    REOPEN = "reopen"
    MERGE = "merge"


T = TicketState
OPEN = frozenset({T.NEW, T.ASSIGNED, T.IN_PROGRESS, T.PENDING})
# action -> {from state: to state}
TRANSITIONS: dict[Action, dict[TicketState, TicketState]] = {
    Action.ASSIGN: {
        T.NEW: T.ASSIGNED,
        T.ASSIGNED: T.ASSIGNED,
        T.IN_PROGRESS: T.ASSIGNED,
        T.PENDING: T.ASSIGNED,
    },
    Action.START: {T.ASSIGNED: T.IN_PROGRESS},
    Action.PEND: {T.IN_PROGRESS: T.PENDING},
    Action.RESUME: {T.PENDING: T.IN_PROGRESS},
    Action.RESOLVE: {T.IN_PROGRESS: T.RESOLVED, T.ASSIGNED: T.RESOLVED},
    Action.ASK_CONFIRMATION: {T.RESOLVED: T.AWAITING_CONFIRMATION},
    Action.CONFIRM: {T.AWAITING_CONFIRMATION: T.CLOSED},
    Action.REJECT: {T.AWAITING_CONFIRMATION: T.IN_PROGRESS},
    Action.EXPIRE: {T.AWAITING_CONFIRMATION: T.CLOSED},
    Action.REOPEN: {T.CLOSED: T.IN_PROGRESS},
    Action.MERGE: dict.fromkeys(OPEN, T.MERGED),
}
# the customer's answer and the confirmation timeout are not a person's to give from the desk
NOT_FROM_THE_DESK = frozenset({Action.CONFIRM, Action.REJECT, Action.EXPIRE})


def desk_actions(state: str) -> list[str]:
    """What a person may do to a ticket in ``state`` (the screens offer these and no others)."""
    return [a.value for a, moves in TRANSITIONS.items() if state in moves and a not in NOT_FROM_THE_DESK]


CLOCK_STOPPED = frozenset({T.PENDING, T.RESOLVED, T.AWAITING_CONFIRMATION, T.CLOSED, T.MERGED})


class PendingOn(StrEnum):
    CUSTOMER = "customer"
    THIRD_PARTY = "third_party"


@dataclass
class Lifecycle:
    """A ticket's state and what the rules need to know beside it."""

    state: TicketState = T.NEW
    assignee: str | None = None
    pending_on: PendingOn | None = None
    closed_at: float | None = None

    def move(
        self,
        action: Action,
        now: float,
        *,
        assignee: str | None = None,
        pending_on: PendingOn | None = None,
        reopen_window_s: float = 14 * 86400,
    ) -> TicketState:
        """Apply ``action``; ``IllegalTransition`` (and nothing changed) when the state forbids it."""
        target = TRANSITIONS[action].get(self.state)
        if target is None:
            raise IllegalTransition(
                f"a {self.state.value} ticket cannot {action.value.replace('_', ' ')}",
                {"state": self.state.value, "action": action.value},
            )
        if action is Action.ASSIGN and not assignee:
            raise IllegalTransition("assigning needs an assignee", {"action": action.value})
        if action is Action.PEND and pending_on is None:
            raise IllegalTransition("pending needs whom it waits for", {"action": action.value})
        if action is Action.RESOLVE and self.assignee is None:
            raise IllegalTransition("only an assigned ticket is resolved", {"action": action.value})
        if action is Action.REOPEN and (self.closed_at is None or now - self.closed_at > reopen_window_s):
            raise IllegalTransition(
                "the ticket was closed too long ago to reopen: open a new one",
                {"action": action.value, "reopen_window_s": reopen_window_s},
            )
        self.state = target
        if action is Action.ASSIGN:
            self.assignee = assignee
        self.pending_on = pending_on if target is T.PENDING else None
        self.closed_at = now if target is T.CLOSED else None
        return target

    @property
    def sla_running(self) -> bool:
        return self.state not in CLOCK_STOPPED


class Level(IntEnum):
    HIGH = 1
    MEDIUM = 2
    LOW = 3


def priority(urgency: Level, impact: Level) -> int:
    """The ITIL matrix: 1 (critical) to 5 (planning); high urgency and high impact make 1."""
    return int(urgency) + int(impact) - 1

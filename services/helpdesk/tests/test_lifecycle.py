"""The ticket lifecycle and the priority matrix, without servers."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from callisto_helpdesk.errors import IllegalTransition
from callisto_helpdesk.lifecycle import (
    OPEN,
    TRANSITIONS,
    Action,
    Level,
    Lifecycle,
    PendingOn,
    TicketState,
    priority,
)

pytestmark = pytest.mark.unit
T0 = 1_800_000_000.0
DAY = 86400.0


def test_a_ticket_from_new_to_closed_with_the_customers_confirmation() -> None:
    ticket = Lifecycle()
    ticket.move(Action.ASSIGN, T0, assignee="water-1")
    ticket.move(Action.START, T0 + 1)
    ticket.move(Action.PEND, T0 + 2, pending_on=PendingOn.CUSTOMER)
    assert not ticket.sla_running and ticket.pending_on is PendingOn.CUSTOMER
    ticket.move(Action.RESUME, T0 + 3)
    assert ticket.sla_running and ticket.pending_on is None
    ticket.move(Action.RESOLVE, T0 + 4)
    ticket.move(Action.ASK_CONFIRMATION, T0 + 5)
    ticket.move(Action.REJECT, T0 + 6)  # "the water is still brown"
    assert ticket.state is TicketState.IN_PROGRESS
    ticket.move(Action.RESOLVE, T0 + 7)
    ticket.move(Action.ASK_CONFIRMATION, T0 + 8)
    assert ticket.move(Action.CONFIRM, T0 + 9) is TicketState.CLOSED
    assert ticket.closed_at == T0 + 9


@pytest.mark.parametrize(
    ("state", "action"),
    [
        (TicketState.IN_PROGRESS, Action.CONFIRM),  # closing without the customer's confirmation
        (TicketState.RESOLVED, Action.CONFIRM),  # not asked yet
        (TicketState.CLOSED, Action.RESOLVE),  # resolving a closed ticket
        (TicketState.NEW, Action.START),  # nobody assigned
        (TicketState.MERGED, Action.REOPEN),
        (TicketState.CLOSED, Action.MERGE),
    ],
)
def test_illegal_moves_are_refused_and_change_nothing(state: TicketState, action: Action) -> None:
    ticket = Lifecycle(state=state, assignee="water-1")
    with pytest.raises(IllegalTransition) as refused:
        ticket.move(action, T0)
    assert refused.value.details == {"state": state.value, "action": action.value}
    assert ticket.state is state


def test_what_each_move_needs() -> None:
    with pytest.raises(IllegalTransition):
        Lifecycle().move(Action.ASSIGN, T0)  # an assignee
    with pytest.raises(IllegalTransition):
        Lifecycle(TicketState.IN_PROGRESS, "a").move(Action.PEND, T0)  # whom it waits for
    closed = Lifecycle(TicketState.CLOSED, "a", closed_at=T0)
    with pytest.raises(IllegalTransition):
        closed.move(Action.REOPEN, T0 + 15 * DAY)
    assert closed.move(Action.REOPEN, T0 + 13 * DAY) is TicketState.IN_PROGRESS
    expired = Lifecycle(TicketState.AWAITING_CONFIRMATION, "a")
    assert expired.move(Action.EXPIRE, T0) is TicketState.CLOSED


@given(st.lists(st.tuples(st.sampled_from(list(Action)), st.sampled_from(list(PendingOn))), max_size=40))
def test_any_sequence_stays_within_the_machine(moves: list[tuple[Action, PendingOn]]) -> None:
    ticket, now = Lifecycle(), T0
    for action, pending_on in moves:
        before = ticket.state
        now += 60
        try:
            ticket.move(action, now, assignee="a", pending_on=pending_on)
        except IllegalTransition:
            assert ticket.state is before  # a refusal changes nothing
            continue
        assert ticket.state is TRANSITIONS[action][before]
        assert before is not TicketState.MERGED  # a merged ticket never moves
        if ticket.state is TicketState.CLOSED:  # closed only once the customer was asked
            assert before is TicketState.AWAITING_CONFIRMATION


def test_the_priority_matrix() -> None:
    assert priority(Level.HIGH, Level.HIGH) == 1
    assert priority(Level.HIGH, Level.LOW) == priority(Level.LOW, Level.HIGH) == 3
    assert priority(Level.LOW, Level.LOW) == 5
    assert {priority(u, i) for u in Level for i in Level} == {1, 2, 3, 4, 5}
    assert {TicketState.NEW, TicketState.ASSIGNED, TicketState.IN_PROGRESS, TicketState.PENDING} == OPEN

"""SLA arithmetic: business time in a calendar with hours, holidays and a time zone; pauses."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from callisto_helpdesk.sla import BusinessCalendar, Standing, clock

pytestmark = pytest.mark.unit
OFFICE = BusinessCalendar(
    timezone="Europe/Moscow",  # UTC+3
    weekly={d: ((time(9), time(13)), (time(14), time(18))) for d in range(5)},  # Mon-Fri, lunch 13-14
    holidays=frozenset({date(2026, 11, 4)}),  # Unity Day, a Wednesday
)


def msk(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour - 3, minute, tzinfo=UTC)  # Moscow wall time, in UTC


def test_business_time_skips_nights_lunch_weekends_and_holidays() -> None:
    assert OFFICE.elapsed(msk(2, 9), msk(2, 18)) == 8 * 3600  # Monday, lunch excluded
    assert OFFICE.elapsed(msk(3, 17), msk(5, 10)) == 2 * 3600  # Tue 17-18, Wed holiday, Thu 9-10
    assert OFFICE.elapsed(msk(6, 17), msk(9, 9, 30)) == 1.5 * 3600  # over the weekend
    assert OFFICE.add(msk(3, 17), 2 * 3600) == msk(5, 10)
    assert OFFICE.add(msk(2, 12, 30), 3600) == msk(2, 14, 30)  # across lunch
    assert OFFICE.add(msk(7, 20), 60) == msk(9, 9, 1)  # Saturday evening: Monday morning
    always = BusinessCalendar.always()
    assert always.add(msk(7, 20), 3600) == msk(7, 21)


@given(st.integers(0, 60 * 24 * 20), st.integers(0, 60 * 200))
def test_adding_then_measuring_gives_back_the_time(start_minute: int, minutes: int) -> None:
    start = msk(2, 3) + timedelta(minutes=start_minute)
    due = OFFICE.add(start, minutes * 60)
    assert OFFICE.elapsed(start, due) == pytest.approx(minutes * 60)


def test_pauses_stop_the_clock_and_the_standing_follows_the_target() -> None:
    target = 4 * 3600.0  # resolve within four business hours
    # ran Monday 9-11, paused (waiting for the customer) until Tuesday 9, runs since
    running = [(msk(2, 9), msk(2, 11)), (msk(3, 9), None)]
    early = clock(OFFICE, running, target, msk(3, 10))
    assert (early.used_s, early.standing, early.due) == (3 * 3600, Standing.OK, msk(3, 11))  # 75 % used
    now = msk(3, 10, 30)
    standing = clock(OFFICE, running, target, now)
    assert (standing.used_s, standing.standing) == (3.5 * 3600, Standing.WARNING)  # 87.5 % >= 80 %
    assert standing.due == msk(3, 11)
    paused = clock(OFFICE, [(msk(2, 9), msk(2, 11))], target, now)
    assert paused.due is None and paused.standing is Standing.OK
    late = clock(OFFICE, running, target, msk(3, 15))
    assert late.standing is Standing.BREACHED and late.left_s == -3 * 3600  # 2 h, then 9-13 and 14-15


def test_a_tickets_sla_from_its_history() -> None:
    from callisto_helpdesk.sla import Policy, Targets
    from callisto_helpdesk.sla_engine import ticket_sla
    from callisto_helpdesk.tickets import Ticket

    def line(action: str, to_state: str, at: datetime, **details: object) -> dict[str, object]:
        return {"action": action, "to_state": to_state, "at": at, "details": details}

    history = [
        line("created", "new", msk(2, 9)),
        line("assign", "assigned", msk(2, 9, 10)),
        line("start", "in_progress", msk(2, 9, 30)),  # the first response: 30 business minutes
        line("pend", "pending", msk(2, 10)),  # waits for the customer until Tuesday
        line("resume", "in_progress", msk(3, 9)),
    ]
    ticket = Ticket.model_validate({
        "ticket_id": "t", "number": 1000, "subject": "s", "description": "", "category_id": "no-water",
        "channel": "phone", "urgency": 2, "impact": 2, "priority": 3, "state": "in_progress",
        "pending_on": None, "contact_id": None, "department": "water-network", "assignee": "a",
        "created_by": "u", "call_id": None, "merged_into": None, "created_at": msk(2, 9),
        "updated_at": msk(3, 9), "closed_at": None, "history": history,
    })  # fmt: skip
    policy = Policy(OFFICE, Targets(first_response_s=3600, resolution_s=4 * 3600))
    shown = ticket_sla(policy, ticket, msk(3, 11))
    assert shown["first_response"] == {
        "target_s": 3600, "used_s": 1800.0, "due": None, "standing": "ok", "met_at": msk(2, 9, 30)
    }  # fmt: skip
    assert shown["resolution"]["used_s"] == 3 * 3600  # Monday 9-10, Tuesday 9-11; the pause does not count
    assert (shown["resolution"]["standing"], shown["resolution"]["due"]) == ("ok", msk(3, 12))

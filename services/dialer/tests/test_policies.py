"""The law as pure logic: calling hours in the contact's own time (working days, weekends, holidays),
how often one contact may be called, the 72 hours after an abandoned call; every rule looked at is
named in the verdict."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from callisto_dialer.policies import POLICIES, Attempt, check, holidays_of, next_opening

pytestmark = pytest.mark.unit
RU = POLICIES["ru-230fz"]
VLADIVOSTOK = ZoneInfo("Asia/Vladivostok")  # UTC+10
NO_HOLIDAYS = holidays_of([])


def local(day: int, hour: int, minute: int = 0, zone: ZoneInfo = VLADIVOSTOK) -> datetime:
    """A moment of December 2026 in ``zone`` (the 7th is a Monday)."""
    return datetime(2026, 12, day, hour, minute, tzinfo=zone)


def test_hours_are_the_contacts_own_working_days_weekends_and_holidays() -> None:
    assert not check(RU, VLADIVOSTOK, NO_HOLIDAYS, [], local(7, 7, 59)).allowed
    monday = check(RU, VLADIVOSTOK, NO_HOLIDAYS, [], local(7, 8, 0))
    assert monday.allowed and monday.checked[0] == "hours (working day 08:00-22:00): ok"
    late = check(RU, VLADIVOSTOK, NO_HOLIDAYS, [], local(7, 22, 0))
    assert not late.allowed and late.reason == "hours (working day 08:00-22:00 local 22:00)"
    # 08:30 on a Saturday is too early (09:00-20:00); it is 22:30 on Friday in Moscow, where it is fine
    assert not check(RU, VLADIVOSTOK, NO_HOLIDAYS, [], local(12, 8, 30)).allowed
    assert check(RU, VLADIVOSTOK, NO_HOLIDAYS, [], local(12, 9, 0)).allowed
    assert not check(RU, VLADIVOSTOK, NO_HOLIDAYS, [], local(12, 20, 0)).allowed
    holiday = holidays_of(["2026-12-31"])
    assert not check(RU, VLADIVOSTOK, holiday, [], local(31, 8, 30)).allowed  # a Thursday, a holiday
    assert check(RU, VLADIVOSTOK, NO_HOLIDAYS, [], local(31, 8, 30)).allowed


def test_a_contact_is_called_once_a_day_twice_a_week_eight_times_a_month() -> None:
    monday = local(7, 10)
    today = check(RU, VLADIVOSTOK, NO_HOLIDAYS, [Attempt(monday)], local(7, 15))
    assert not today.allowed and today.reason == "per day (1 of 1)"
    tuesday = check(RU, VLADIVOSTOK, NO_HOLIDAYS, [Attempt(monday)], local(8, 10))
    assert tuesday.allowed and "per week (1 of 2): ok" in tuesday.checked
    twice = [Attempt(monday), Attempt(local(8, 10))]
    assert check(RU, VLADIVOSTOK, NO_HOLIDAYS, twice, local(11, 10)).reason == "per week (2 of 2)"
    assert check(RU, VLADIVOSTOK, NO_HOLIDAYS, twice, local(14, 10)).allowed  # the next week
    # the day is the contact's: 23:30 UTC on the 7th is the 8th in Vladivostok
    evening_utc = datetime(2026, 12, 7, 23, 30, tzinfo=UTC)
    assert check(RU, VLADIVOSTOK, NO_HOLIDAYS, [Attempt(monday)], evening_utc).allowed
    month = [Attempt(local(d, 10)) for d in (1, 2, 7, 8, 14, 15, 21, 22)]
    assert check(RU, VLADIVOSTOK, NO_HOLIDAYS, month, local(29, 10)).reason == "per month (8 of 8)"
    assert check(RU, VLADIVOSTOK, NO_HOLIDAYS, month, datetime(2027, 1, 11, 10, tzinfo=VLADIVOSTOK)).allowed


def test_ofcom_keeps_72_hours_after_an_abandoned_call() -> None:
    uk = POLICIES["uk-ofcom"]
    london = ZoneInfo("Europe/London")
    abandoned = Attempt(local(7, 10, zone=london), abandoned=True)
    assert check(uk, london, NO_HOLIDAYS, [abandoned], local(9, 10, zone=london)).reason == (
        "72 h after an abandoned call"
    )
    assert check(uk, london, NO_HOLIDAYS, [abandoned], local(10, 10, 1, zone=london)).allowed
    answered = Attempt(local(7, 10, zone=london))
    assert check(uk, london, NO_HOLIDAYS, [answered], local(7, 11, zone=london)).allowed  # no daily cap


def test_the_next_opening_skips_nights_weekends_and_holidays() -> None:
    friday_night = local(11, 23)
    assert next_opening(RU, VLADIVOSTOK, NO_HOLIDAYS, friday_night) == local(12, 9).astimezone(UTC)
    holiday = holidays_of(["2026-12-31"])
    assert next_opening(RU, VLADIVOSTOK, holiday, local(30, 22, 30)) == local(31, 9).astimezone(UTC)
    inside = local(7, 12)
    assert next_opening(RU, VLADIVOSTOK, NO_HOLIDAYS, inside) == inside.astimezone(UTC)
    at_22 = inside + timedelta(hours=10)
    assert next_opening(RU, VLADIVOSTOK, NO_HOLIDAYS, at_22) == local(8, 8).astimezone(UTC)

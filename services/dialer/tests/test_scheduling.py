"""When a contact is called next, as pure logic: hours common to every time zone it may be in, caps
pushing to the next local day, the 72 hours after an abandoned call, do-not-call numbers skipped,
numbers taken in turn, retries by outcome, the end of attempts and of the campaign."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from callisto_dialer.campaigns import Retries
from callisto_dialer.policies import POLICIES, Attempt, holidays_of
from callisto_dialer.scheduling import Dial, Finished, Later, Outcome, Rules, after_outcome, plan

pytestmark = pytest.mark.unit
RU = Rules(POLICIES["ru-230fz"], holidays_of([]), max_attempts=3, retries=Retries())
MONDAY = datetime(2026, 12, 7, tzinfo=UTC)  # 00:00 UTC, a Monday
MOBILE_ZONES = ("Europe/Bucharest", "Europe/Moscow", "Asia/Yekaterinburg", "Asia/Vladivostok", "Asia/Anadyr")
NOBODY: frozenset[str] = frozenset()


def test_a_contact_is_dialled_inside_its_hours_on_its_numbers_in_turn() -> None:
    at_ten = MONDAY + timedelta(hours=7)  # 10:00 in Moscow
    first = plan(RU, ["+74951234567", "+79123456789"], ["Europe/Moscow"], 0, [], NOBODY, at_ten)
    assert isinstance(first, Dial) and first.number == "+74951234567"
    assert "Europe/Moscow: hours (working day 08:00-22:00): ok" in first.checked
    assert "Europe/Moscow: per day (0 of 1): ok" in first.checked
    second = plan(RU, ["+74951234567", "+79123456789"], ["Europe/Moscow"], 1, [], NOBODY, at_ten)
    assert isinstance(second, Dial) and second.number == "+79123456789"
    blocked = frozenset({"+74951234567"})
    skipped = plan(RU, ["+74951234567", "+79123456789"], ["Europe/Moscow"], 0, [], blocked, at_ten)
    assert isinstance(skipped, Dial) and skipped.number == "+79123456789"
    assert plan(RU, ["+74951234567"], ["Europe/Moscow"], 0, [], blocked, at_ten) == Finished(
        "do-not-call", "every number is on a do-not-call list"
    )


def test_too_early_waits_for_the_hour_every_zone_is_open() -> None:
    early = plan(RU, ["+74951234567"], ["Europe/Moscow"], 0, [], NOBODY, MONDAY)  # 03:00 in Moscow
    assert isinstance(early, Later) and early.at == MONDAY + timedelta(hours=5)  # 08:00 in Moscow
    # a mobile number that may be anywhere from Bucharest (UTC+2) to Anadyr (UTC+12): 06:00-10:00 UTC
    anywhere = plan(RU, ["+79123456789"], MOBILE_ZONES, 0, [], NOBODY, MONDAY)
    assert isinstance(anywhere, Later) and anywhere.at == MONDAY + timedelta(hours=6)
    assert isinstance(plan(RU, ["+79123456789"], MOBILE_ZONES, 0, [], NOBODY, anywhere.at), Dial)
    late = plan(RU, ["+79123456789"], MOBILE_ZONES, 0, [], NOBODY, MONDAY + timedelta(hours=10))
    assert isinstance(late, Later) and late.at == MONDAY + timedelta(days=1, hours=6)
    saturday = MONDAY + timedelta(days=5)  # 09:00-20:00: the zones share 07:00-08:00 UTC
    weekend = plan(RU, ["+79123456789"], MOBILE_ZONES, 0, [], NOBODY, saturday)
    assert isinstance(weekend, Later) and weekend.at == saturday + timedelta(hours=7)


def test_a_cap_waits_for_the_next_day_and_ofcom_for_72_hours() -> None:
    at_ten = MONDAY + timedelta(hours=7)
    called = [Attempt(MONDAY + timedelta(hours=6))]
    capped = plan(RU, ["+74951234567"], ["Europe/Moscow"], 1, called, NOBODY, at_ten)
    assert capped == Later(MONDAY + timedelta(days=1, hours=5), "Europe/Moscow: per day (1 of 1)")
    uk = Rules(POLICIES["uk-ofcom"], holidays_of([]), max_attempts=5, retries=Retries())
    abandoned = [Attempt(MONDAY + timedelta(hours=10), abandoned=True)]
    after = plan(uk, ["+442079460000"], ["Europe/London"], 1, abandoned, NOBODY, MONDAY + timedelta(hours=12))
    assert isinstance(after, Later) and after.at == MONDAY + timedelta(hours=82)


def test_outcomes_retry_by_the_campaigns_delays_until_the_attempts_are_used_up() -> None:
    now = MONDAY + timedelta(hours=9)
    assert after_outcome(RU, Outcome.BUSY, 1, now) == Later(now + timedelta(seconds=1800), "busy")
    assert after_outcome(RU, Outcome.NO_ANSWER, 2, now) == Later(now + timedelta(seconds=3600), "no-answer")
    assert isinstance(after_outcome(RU, Outcome.NO_ANSWER, 3, now), Finished)
    assert after_outcome(RU, Outcome.ANSWERED, 1, now) == Finished("answered", "reached")
    assert isinstance(plan(RU, ["+74951234567"], ["Europe/Moscow"], 3, [], NOBODY, now), Finished)
    ended = Rules(RU.policy, RU.holidays, 3, RU.retries, ends_at=now)
    over = plan(ended, ["+74951234567"], ["Europe/Moscow"], 0, [], NOBODY, now)
    assert isinstance(over, Finished) and over.outcome == "campaign-ended"

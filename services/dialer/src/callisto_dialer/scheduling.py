"""Whether, when and on which number a contact is called next. Pure: the hopper gives the contact, its
calls so far and the do-not-call numbers, and writes down what this says.

- A contact is finished when the campaign's end has passed, its attempts are used up, or every number
  it has is on a do-not-call list (which always wins).
- Otherwise the policy is checked in each of its time zones (all must allow it). Refused for the hours:
  again at the first instant every zone is open. Refused for a cap (a day, a week, a month): again from
  the next local day on. Refused for the hours after an abandoned call: again when they are over.
- Allowed: the numbers are tried in turn (the first on the first attempt, the next on the next), the
  do-not-call ones skipped; every rule looked at goes with the attempt (the compliance log).
- After an attempt that did not reach the contact, the campaign's retry delay for that outcome; after
  the last allowed attempt, finished. One never dialled (skipped) counts for nothing: again in 15
  minutes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from callisto_dialer.campaigns import Retries
from callisto_dialer.policies import Attempt, Policy, check, next_opening

CAPS = ("per day", "per week", "per month")
SKIPPED_AGAIN = timedelta(minutes=15)
ROUNDS = 30  # openings of the zones looked at before giving up on a common one


class Outcome(StrEnum):
    ANSWERED = "answered"
    BUSY = "busy"
    NO_ANSWER = "no-answer"
    MACHINE = "machine"
    ABANDONED = "abandoned"
    FAILED = "failed"
    SKIPPED = "skipped"  # never dialled (a preview skipped or withdrawn, the agent not answering first)


BUSY = frozenset({486, 600})
NO_ANSWER = frozenset({408, 480, 487})


def outcome_of(answered: bool, connected: bool, sip_status: int | None) -> Outcome:
    """An attempt's outcome from its call: taken by an agent, answered but taken by none (abandoned),
    or never answered: busy, no answer (the ring timed out), or failed."""
    if connected:
        return Outcome.ANSWERED
    if answered:
        return Outcome.ABANDONED
    if sip_status in BUSY:
        return Outcome.BUSY
    if sip_status in NO_ANSWER:
        return Outcome.NO_ANSWER
    return Outcome.FAILED


RETRY_OF = {
    Outcome.BUSY: "busy_s", Outcome.NO_ANSWER: "no_answer_s", Outcome.MACHINE: "machine_s",
    Outcome.ABANDONED: "abandoned_s", Outcome.FAILED: "failed_s",
}  # fmt: skip


@dataclass(frozen=True)
class Rules:
    policy: Policy
    holidays: frozenset[date]
    max_attempts: int
    retries: Retries
    ends_at: datetime | None = None


@dataclass(frozen=True)
class Dial:
    number: str
    checked: tuple[str, ...]


@dataclass(frozen=True)
class Later:
    at: datetime
    reason: str


@dataclass(frozen=True)
class Finished:
    outcome: str  # answered, max-attempts, do-not-call, campaign-ended, no-calling-hours
    reason: str


Plan = Dial | Later | Finished


def plan(
    rules: Rules,
    numbers: Sequence[str],
    zones: Sequence[str],
    made: int,
    history: Sequence[Attempt],
    blocked: frozenset[str],
    now: datetime,
) -> Plan:
    """What to do with a contact now: ``made`` attempts of this campaign so far, ``history`` every call
    to its numbers that counts for the policy (any campaign), ``blocked`` the numbers not to call."""
    if rules.ends_at is not None and now >= rules.ends_at:
        return Finished("campaign-ended", "the campaign's end has passed")
    if made >= rules.max_attempts:
        return Finished("max-attempts", f"{made} attempts of {rules.max_attempts}")
    allowed = [n for n in numbers if n not in blocked]
    if not allowed:
        return Finished("do-not-call", "every number is on a do-not-call list")
    places = [ZoneInfo(z) for z in zones]
    checked: list[str] = []
    for zone in places:
        verdict = check(rules.policy, zone, rules.holidays, history, now)
        checked += [f"{zone.key}: {line}" for line in verdict.checked]
        if verdict.allowed:
            continue
        reason = f"{zone.key}: {verdict.reason}"
        after = now
        if verdict.reason and verdict.reason.startswith(CAPS):
            after = max(_next_midnight(z, now) for z in places)
        elif verdict.reason and "abandoned" in verdict.reason:
            last = max(a.at for a in history if a.abandoned)
            after = last + timedelta(hours=rules.policy.after_abandon_h)
        opening = common_opening(rules, places, after)
        if opening is None:
            return Finished("no-calling-hours", f"its time zones share no calling hours: {', '.join(zones)}")
        return Later(opening, reason)
    return Dial(allowed[made % len(allowed)], tuple(checked))


def after_outcome(rules: Rules, outcome: Outcome, made: int, now: datetime) -> Later | Finished:
    """Where a contact stands after its ``made``-th attempt ended with ``outcome``."""
    if outcome is Outcome.SKIPPED:  # not an attempt at all: soon again, for whoever is free
        return Later(now + SKIPPED_AGAIN, outcome.value)
    if outcome is Outcome.ANSWERED:
        return Finished("answered", "reached")
    if made >= rules.max_attempts:
        return Finished("max-attempts", f"{made} attempts of {rules.max_attempts}, the last {outcome.value}")
    return Later(now + timedelta(seconds=getattr(rules.retries, RETRY_OF[outcome])), outcome.value)


def common_opening(rules: Rules, zones: Sequence[ZoneInfo], after: datetime) -> datetime | None:
    """The first instant at or after ``after`` inside the calling hours of every zone."""
    at = after
    for _ in range(ROUNDS):
        try:
            latest = max(next_opening(rules.policy, z, rules.holidays, at) for z in zones)
        except ValueError:
            return None
        if latest == at:  # every zone open at this instant
            return latest
        at = latest
    return None


def _next_midnight(zone: ZoneInfo, now: datetime) -> datetime:
    local = now.astimezone(zone)
    return datetime.combine(local.date() + timedelta(days=1), time(0), zone)

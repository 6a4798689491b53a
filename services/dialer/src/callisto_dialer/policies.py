"""The law a campaign dials under: calling hours in the contact's local time, how often one contact may
be called, the abandon limit and its window. Pure: ``check`` says whether a contact may be called at
an instant and names every rule it looked at (the compliance log keeps them with the attempt).

Policies (README.md, "Policies"):

- ``ru-230fz`` (Russia, 230-FZ art. 7, debt collection): 08:00-22:00 on working days, 09:00-20:00 on
  weekends and holidays, in the debtor's local time; at most 1 call a day, 2 a calendar week, 8 a
  calendar month (the debtor's calendar; robot calls count).
- ``us-tsr`` (US Telemarketing Sales Rule): 08:00-21:00 local; abandoned ≤ 3 % of live-answered calls
  per campaign over 30 days; a recorded message within 2 s; ring at least 15 s.
- ``uk-ofcom`` (Ofcom's persistent misuse policy): abandoned ≤ 3 % per campaign over 24 hours,
  answering machines wrongly detected count as abandoned; no call to a number within 72 hours of an
  abandoned call to it; 08:00-21:00 local (the industry's hours: Ofcom sets none).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field


class Window(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    start: time
    end: time

    def holds(self, moment: time) -> bool:
        return self.start <= moment < self.end


class Policy(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    working_days: Window
    rest_days: Window | None = Field(default=None, description="weekends and holidays; None: no calls")
    per_day: int | None = Field(default=None, ge=0, description="calls to one contact a local day")
    per_week: int | None = Field(default=None, ge=0, description="a calendar week (Monday first)")
    per_month: int | None = Field(default=None, ge=0)
    abandon_limit: float = Field(default=0.03, gt=0, le=1, description="abandoned ÷ live-answered")
    abandon_window_h: int = Field(default=24, ge=1, le=24 * 31)
    message_within_s: float = Field(default=2.0, gt=0, le=10)
    min_ring_s: float = Field(default=0.0, ge=0, le=120)
    after_abandon_h: int = Field(default=0, ge=0, description="no call within this long of an abandoned one")
    machine_false_positives_abandon: bool = False


POLICIES: dict[str, Policy] = {
    p.name: p
    for p in (
        Policy(
            name="ru-230fz", working_days=Window(start=time(8), end=time(22)),
            rest_days=Window(start=time(9), end=time(20)), per_day=1, per_week=2, per_month=8,
            abandon_limit=0.03, abandon_window_h=24,
        ),
        Policy(
            name="us-tsr", working_days=Window(start=time(8), end=time(21)),
            rest_days=Window(start=time(8), end=time(21)), abandon_limit=0.03, abandon_window_h=30 * 24,
            min_ring_s=15,
        ),
        Policy(
            name="uk-ofcom", working_days=Window(start=time(8), end=time(21)),
            rest_days=Window(start=time(8), end=time(21)), abandon_limit=0.03, abandon_window_h=24,
            after_abandon_h=72, machine_false_positives_abandon=True, min_ring_s=15,
        ),
    )
}  # fmt: skip


@dataclass(frozen=True)
class Attempt:
    """A call already made to the contact (any campaign that counts: robot calls too)."""

    at: datetime
    abandoned: bool = False


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    checked: tuple[str, ...]  # every rule looked at, as "rule: outcome"
    reason: str | None = None  # the first rule that refused


def check(
    policy: Policy, zone: ZoneInfo, holidays: frozenset[date], attempts: Sequence[Attempt], now: datetime
) -> Verdict:
    """May the contact (in ``zone``, whose calendar has ``holidays``) be called at ``now`` (aware)?"""
    local = now.astimezone(zone)
    day = local.date()
    rest = day.weekday() >= 5 or day in holidays
    window = policy.rest_days if rest else policy.working_days
    checked: list[str] = []

    def refuse(rule: str) -> Verdict:
        checked.append(f"{rule}: refused")
        return Verdict(False, tuple(checked), rule)

    kind = "rest day" if rest else "working day"
    if window is None or not window.holds(local.time()):
        return refuse(f"hours ({kind} {_span(window)} local {local:%H:%M})")
    checked.append(f"hours ({kind} {_span(window)}): ok")
    days = [a.at.astimezone(zone).date() for a in attempts]
    week_start = day - timedelta(days=day.weekday())
    for limit, label, count in (
        (policy.per_day, "per day", sum(1 for d in days if d == day)),
        (policy.per_week, "per week", sum(1 for d in days if week_start <= d <= day)),
        (policy.per_month, "per month", sum(1 for d in days if (d.year, d.month) == (day.year, day.month))),
    ):
        if limit is None:
            continue
        if count >= limit:
            return refuse(f"{label} ({count} of {limit})")
        checked.append(f"{label} ({count} of {limit}): ok")
    if policy.after_abandon_h:
        since = now - timedelta(hours=policy.after_abandon_h)
        if any(a.abandoned and a.at > since for a in attempts):
            return refuse(f"{policy.after_abandon_h} h after an abandoned call")
        checked.append(f"{policy.after_abandon_h} h after an abandoned call: ok")
    return Verdict(True, tuple(checked))


def next_opening(policy: Policy, zone: ZoneInfo, holidays: frozenset[date], after: datetime) -> datetime:
    """The first instant at or after ``after`` inside the calling hours (caps aside), within 14 days."""
    local = after.astimezone(zone)
    for offset in range(15):
        day = local.date() + timedelta(days=offset)
        window = policy.rest_days if day.weekday() >= 5 or day in holidays else policy.working_days
        if window is None:
            continue
        opens = datetime.combine(day, window.start, zone)
        closes = datetime.combine(day, window.end, zone)
        candidate = max(opens, local)
        if candidate < closes:
            return candidate.astimezone(UTC)
    raise ValueError(f"{policy.name}: no calling hours within 14 days")


def holidays_of(days: Iterable[str | date]) -> frozenset[date]:
    return frozenset(d if isinstance(d, date) else date.fromisoformat(d) for d in days)


def _span(window: Window | None) -> str:
    return "no calls" if window is None else f"{window.start:%H:%M}-{window.end:%H:%M}"

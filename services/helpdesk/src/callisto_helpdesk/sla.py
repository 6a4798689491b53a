"""SLA arithmetic: business time in a calendar (working hours per weekday in a time zone, holidays),
targets by priority, and where a ticket stands against them given the intervals its clock ran.

Pure: the SLA engine (``sla_engine``) builds on it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml

DAY = timedelta(days=1)
MAX_DAYS = 3660  # ten years of calendar days: a target never lies further


@dataclass(frozen=True)
class BusinessCalendar:
    timezone: str = "UTC"
    weekly: dict[int, tuple[tuple[time, time], ...]] = field(default_factory=dict)  # 0 = Monday
    holidays: frozenset[date] = frozenset()

    @classmethod
    def always(cls) -> BusinessCalendar:
        """Around the clock, every day (the emergency line's calendar)."""
        return cls(weekly={d: ((time(0), time.max),) for d in range(7)})

    def _windows(self, day: date) -> list[tuple[datetime, datetime]]:
        if day in self.holidays:
            return []
        zone = ZoneInfo(self.timezone)
        result = []
        for start, end in self.weekly.get(day.weekday(), ()):
            opened = datetime.combine(day, start, zone)
            closed = (
                datetime.combine(day, end, zone)
                if end != time.max
                else datetime.combine(day + DAY, time(0), zone)
            )
            result.append((opened, closed))
        return result

    def elapsed(self, start: datetime, end: datetime) -> float:
        """Business seconds between two moments."""
        if end <= start:
            return 0.0
        zone = ZoneInfo(self.timezone)
        day, total = start.astimezone(zone).date() - DAY, 0.0
        last = end.astimezone(zone).date() + DAY
        while day <= last:
            for opened, closed in self._windows(day):
                lo, hi = max(opened, start), min(closed, end)
                if hi > lo:
                    total += (hi - lo).total_seconds()
            day += DAY
        return total

    def add(self, start: datetime, seconds: float) -> datetime:
        """The moment ``seconds`` of business time after ``start``."""
        zone = ZoneInfo(self.timezone)
        day, left = start.astimezone(zone).date() - DAY, seconds
        for _ in range(MAX_DAYS):
            for opened, closed in self._windows(day):
                lo = max(opened, start)
                if closed <= lo:
                    continue
                room = (closed - lo).total_seconds()
                if left <= room:
                    return lo + timedelta(seconds=left)
                left -= room
            day += DAY
        raise ValueError("the calendar has no working time within ten years")


@dataclass(frozen=True)
class Targets:
    """Seconds of business time to the first response and to the resolution; a warning when
    ``warn_at`` of the time is used."""

    first_response_s: float
    resolution_s: float
    warn_at: float = 0.8


class Standing(StrEnum):
    OK = "ok"
    WARNING = "warning"
    BREACHED = "breached"


@dataclass(frozen=True)
class Clock:
    used_s: float
    target_s: float
    due: datetime | None  # when the target runs out if the clock keeps running now; None while stopped
    standing: Standing

    @property
    def left_s(self) -> float:
        return self.target_s - self.used_s


def clock(
    calendar: BusinessCalendar,
    running: Iterable[tuple[datetime, datetime | None]],
    target_s: float,
    now: datetime,
    warn_at: float = 0.8,
) -> Clock:
    """Where a target stands: ``running`` are the intervals the SLA clock ran (a pending ticket's
    pauses are the gaps; an open end means it runs now)."""
    used, runs_now = 0.0, False
    for start, end in running:
        used += calendar.elapsed(start, end or now)
        runs_now = runs_now or end is None
    left = target_s - used
    due = calendar.add(now, max(0.0, left)) if runs_now else None
    if used >= target_s:
        standing = Standing.BREACHED
    elif used >= warn_at * target_s:
        standing = Standing.WARNING
    else:
        standing = Standing.OK
    return Clock(used, target_s, due, standing)


@dataclass(frozen=True)
class Policy:
    calendar: BusinessCalendar
    targets: Targets
    policy_id: str = "default"
    escalation: tuple[str, ...] = ()  # staff told on each breach, level by level


def _clock_time(text: str) -> time:
    return time.max if text == "24:00" else time.fromisoformat(text)


def calendar_from_spec(spec: dict[str, Any]) -> BusinessCalendar:
    """A calendar from its stored form: ``{"timezone", "weekly": {"0": [["08:00", "17:00"]], ...},
    "holidays": ["2026-01-01", ...]}`` (weekday 0 is Monday, "24:00" the end of the day)."""
    return BusinessCalendar(
        timezone=spec.get("timezone", "UTC"),
        weekly={
            int(day): tuple((_clock_time(a), _clock_time(b)) for a, b in windows)
            for day, windows in spec.get("weekly", {}).items()
        },
        holidays=frozenset(date.fromisoformat(str(d)) for d in spec.get("holidays", [])),
    )


def read_sla(path: Path) -> tuple[dict[str, dict[str, Any]], list[dict[str, Any]]]:
    """The calendars (name -> spec) and policies of a YAML file (see sla.yaml)."""
    data = yaml.safe_load(path.read_text())
    calendars = {
        name: {**spec, "holidays": [str(d) for d in spec.get("holidays", [])]}
        for name, spec in data["calendars"].items()
    }
    return calendars, list(data["policies"])

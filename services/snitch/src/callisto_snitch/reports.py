"""Reports from history: per queue, line or agent, by 15 minutes, hour, day or month, in the contact
center's time zone, with the same KPI definitions as the wallboard, and the same buckets of a past
period beside them (a week or a month earlier).

Buckets are whole: the first starts at or before ``from``, the last is the one ``to`` falls in. A
call counts in the bucket in which it entered the queue; an agent's time in a state is cut at
bucket boundaries. Empty buckets are reported as zeros, so charts keep their time axis."""

from __future__ import annotations

import asyncio
import calendar
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from callisto_runtime.database import Database
from callisto_snitch.board import Tally, kpis
from callisto_snitch.definitions import Definitions, QueueDefinition
from callisto_snitch.errors import InvalidRange


class Interval(StrEnum):
    QUARTER = "15min"
    HOUR = "hour"
    DAY = "day"
    MONTH = "month"


class Compare(StrEnum):
    NONE = "none"
    WEEK = "week"
    MONTH = "month"


STEP = {
    Interval.QUARTER: "15 minutes",
    Interval.HOUR: "1 hour",
    Interval.DAY: "1 day",
    Interval.MONTH: "1 month",
}
LONGEST = {  # the longest range each interval may cover
    Interval.QUARTER: timedelta(days=366),  # 35,136 buckets: a year on one chart
    Interval.HOUR: timedelta(days=366),
    Interval.DAY: timedelta(days=732),
    Interval.MONTH: timedelta(days=3660),
}
EARLIEST = datetime(2000, 1, 1)
ROW_FIGURES = (
    "offered", "answered", "abandoned", "short_abandoned", "overflowed", "timed_out", "to_callback",
    "handled", "callbacks_requested", "callbacks_done", "service_level", "service_level_answered",
    "service_level_with_abandons", "asa_s", "aht_s", "abandon_rate", "occupancy",
)  # fmt: skip

BUCKETS = """
WITH buckets AS (
    SELECT g AS local_start, (g AT TIME ZONE $3) AS b_start,
           ((g + $4::text::interval) AT TIME ZONE $3) AS b_end
    FROM generate_series($1::timestamp, $2::timestamp - interval '1 microsecond', $4::text::interval) AS g
)
"""


def bucket_of(moment: str) -> str:
    """SQL: the local start of the bucket a timestamptz falls in (buckets start on their boundary:
    ``period``), so rows join their bucket by equality (a hash join), not by range."""
    local = f"(({moment}) AT TIME ZONE $3)"
    return (
        f"CASE $4::text WHEN '1 month' THEN date_trunc('month', {local})"
        f" WHEN '1 day' THEN date_trunc('day', {local})"
        f" ELSE date_bin($4::text::interval, {local}, timestamp '2000-01-01') END"
    )


QUEUE_CALLS = (
    BUCKETS
    + """,
defs AS (SELECT * FROM unnest($5::text[], $6::float8[], $7::float8[]) AS d(queue_id, sl_s, short_s)),
calls AS (
    SELECT c.* FROM queue_calls c
    WHERE c.queue_id = ANY($5) AND c.entered_at >= (SELECT min(b_start) FROM buckets)
      AND c.entered_at < (SELECT max(b_end) FROM buckets)
),
keyed AS (SELECT c.*, """
    + bucket_of("c.entered_at")
    + """ AS bucket FROM calls c)
SELECT b.local_start AS bucket,
       count(c.call_id) FILTER (WHERE NOT c.callback) AS entered,
       count(c.answered_at) FILTER (WHERE NOT c.callback) AS answered,
       count(*) FILTER (WHERE NOT c.callback AND c.answer_wait <= d.sl_s) AS answered_in_sl,
       coalesce(sum(c.answer_wait) FILTER (WHERE NOT c.callback), 0) AS answered_wait_s,
       count(c.abandon_wait) FILTER (WHERE NOT c.callback) AS abandoned,
       count(*) FILTER (WHERE NOT c.callback AND c.abandon_wait < d.short_s) AS short_abandoned,
       count(*) FILTER (WHERE NOT c.callback AND c.overflowed) AS overflowed,
       count(*) FILTER (WHERE NOT c.callback AND c.timed_out) AS timed_out,
       count(*) FILTER (WHERE NOT c.callback AND c.to_callback) AS to_callback,
       count(*) FILTER (WHERE NOT c.callback AND c.answered_at IS NOT NULL AND c.ended_at IS NOT NULL)
           AS handled,
       coalesce(sum(extract(epoch FROM c.ended_at - c.answered_at)) FILTER (WHERE NOT c.callback), 0)
           AS talk_s,
       count(*) FILTER (WHERE c.callback) AS callbacks_requested,
       count(*) FILTER (WHERE c.callback AND c.ended_at IS NOT NULL) AS callbacks_done
FROM buckets b
LEFT JOIN keyed c ON c.bucket = b.local_start
LEFT JOIN defs d ON d.queue_id = c.queue_id
GROUP BY b.local_start ORDER BY b.local_start
"""
)
# Time in each state, cut at bucket boundaries; $5 the queues (agents serving any), or $6 one agent.
# Each interval within the range is spread over the buckets it overlaps (generated from its own start).
AGENT_TIME = (
    BUCKETS
    + """,
span AS (SELECT ($1::timestamp AT TIME ZONE $3) AS r_start, ($2::timestamp AT TIME ZONE $3) AS r_end),
clipped AS (
    SELECT i.state, greatest(i.since, s.r_start) AS since, least(coalesce(i.until, now()), s.r_end) AS until
    FROM agent_intervals i, span s
    WHERE i.since < s.r_end AND coalesce(i.until, now()) > s.r_start
      AND ($5::text[] IS NULL OR i.queues && $5) AND ($6::text IS NULL OR i.agent_id = $6)
)
SELECT g AS bucket, c.state,
       sum(extract(epoch FROM least(c.until, (g + $4::text::interval) AT TIME ZONE $3)
                              - greatest(c.since, g AT TIME ZONE $3))) AS seconds
FROM clipped c,
     generate_series("""
    + bucket_of("c.since")
    + """, (c.until AT TIME ZONE $3) - interval '1 microsecond', $4::text::interval) AS g
WHERE c.until > c.since
GROUP BY g, c.state
"""
)
AGENT_CALLS = (
    BUCKETS
    + """,
answers AS (
    SELECT a.call_id, a.at AS answered_at, a.waited_s,
           (SELECT min(e.at) FROM queue_log e WHERE e.call_id = a.call_id AND e.queue_id = a.queue_id
                                               AND e.step = 'ended') AS ended_at
    FROM queue_log a
    WHERE a.agent_id = $5 AND a.step = 'answered'
      AND a.at >= (SELECT min(b_start) FROM buckets) AND a.at < (SELECT max(b_end) FROM buckets)
)
SELECT b.local_start AS bucket, count(a.call_id) AS answered,
       count(a.ended_at) AS handled,
       coalesce(sum(extract(epoch FROM a.ended_at - a.answered_at)), 0) AS talk_s
FROM buckets b LEFT JOIN answers a ON """
    + bucket_of("a.answered_at")
    + """ = b.local_start
GROUP BY b.local_start ORDER BY b.local_start
"""
)


@dataclass(frozen=True)
class Period:
    start: datetime  # local, naive, inclusive
    end: datetime  # local, naive, exclusive
    interval: Interval

    def shifted(self, compare: Compare) -> Period:
        if compare is Compare.WEEK:
            return Period(self.start - timedelta(days=7), self.end - timedelta(days=7), self.interval)
        return Period(_month_back(self.start), _month_back(self.end), self.interval)


def _month_back(at: datetime) -> datetime:
    year, month = (at.year, at.month - 1) if at.month > 1 else (at.year - 1, 12)
    return at.replace(year=year, month=month, day=min(at.day, calendar.monthrange(year, month)[1]))


def period(start: datetime, end: datetime, interval: Interval, zone: str) -> Period:
    """A report's range, checked: local times (an offset given is turned into the zone's time)."""
    tz = ZoneInfo(zone)
    start_l = start.astimezone(tz).replace(tzinfo=None) if start.tzinfo else start
    end_l = end.astimezone(tz).replace(tzinfo=None) if end.tzinfo else end
    details = {"from": start_l.isoformat(), "to": end_l.isoformat(), "interval": interval.value}
    if end_l <= start_l:
        raise InvalidRange("the report's range ends before it starts", details)
    if end_l - start_l > LONGEST[interval]:
        raise InvalidRange(
            f"a report by {interval.value} covers at most {LONGEST[interval].days} days", details
        )
    if start_l < EARLIEST or end_l > datetime.now(tz).replace(tzinfo=None) + timedelta(days=366):
        raise InvalidRange("the report's range is outside the years history can hold", details)
    start_l = start_l.replace(second=0, microsecond=0)  # the first bucket starts on its boundary
    if interval is Interval.QUARTER:
        start_l = start_l.replace(minute=start_l.minute - start_l.minute % 15)
    else:
        start_l = start_l.replace(minute=0)
    if interval in (Interval.DAY, Interval.MONTH):
        start_l = start_l.replace(hour=0)
    if interval is Interval.MONTH:
        start_l = start_l.replace(day=1)
    return Period(start_l, end_l, interval)


def _number(value: Any) -> Any:
    return float(value) if isinstance(value, Decimal) else value


def _row(
    bucket: datetime, counts: dict[str, Any], seconds: dict[str, float], definition: QueueDefinition
) -> dict[str, Any]:
    tally = Tally(**{k: _number(v) for k, v in counts.items() if k in Tally.__dataclass_fields__})
    busy = seconds.get("on_call", 0.0) + seconds.get("wrap_up", 0.0)
    available = seconds.get("ready", 0.0) + seconds.get("reserved", 0.0)
    figures = kpis(
        tally, definition, waiting=(), callbacks_pending=0, agents={}, busy_s=busy, available_s=available,
        now=0.0,
    )  # fmt: skip
    row: dict[str, Any] = {"bucket": bucket.isoformat()}
    row.update({k: figures[k] for k in ROW_FIGURES})
    row["seconds"] = {state: round(s, 1) for state, s in sorted(seconds.items())}
    return row


class Reports:
    def __init__(self, database: Database, definitions: Callable[[], Definitions], zone: str) -> None:
        self.db = database
        self.definitions = definitions  # the version in use
        self.zone = zone

    async def _fetch(self, sql: str, *args: Any) -> list[Any]:
        """A report's query with room to group a year's calls in memory (the pool's connections
        run without JIT: runtime's Database)."""
        async with self.db.pool.acquire() as conn, conn.transaction(readonly=True):
            await conn.execute("SET LOCAL work_mem = '64MB'")
            rows: list[Any] = await conn.fetch(sql, *args)
            return rows

    async def queues(
        self, queue_ids: list[str], span: Period, definition: QueueDefinition
    ) -> list[dict[str, Any]]:
        defs = [self.definitions().queue(q) for q in queue_ids]
        args = (span.start, span.end, self.zone, STEP[span.interval])
        sl_s, short_s = [d.service_level_s for d in defs], [d.short_abandon_s for d in defs]
        counts, seconds, wraps = await asyncio.gather(  # three connections, side by side
            self._fetch(QUEUE_CALLS, *args, queue_ids, sl_s, short_s),
            self._seconds(args, queue_ids, None),
            self._wrap_seconds(args, queue_ids),
        )
        rows = []
        for record in counts:
            values = dict(record)
            values["wrap_s"] = wraps.get(record["bucket"], 0.0)
            rows.append(_row(record["bucket"], values, seconds.get(record["bucket"], {}), definition))
        return rows

    async def agent(self, agent_id: str, span: Period) -> list[dict[str, Any]]:
        args = (span.start, span.end, self.zone, STEP[span.interval])
        counts, seconds = await asyncio.gather(
            self._fetch(AGENT_CALLS, *args, agent_id), self._seconds(args, None, agent_id)
        )
        rows = []
        defaults = self.definitions().defaults
        for record in counts:
            values = dict(record)
            values["wrap_s"] = seconds.get(record["bucket"], {}).get("wrap_up", 0.0)
            row = _row(record["bucket"], values, seconds.get(record["bucket"], {}), defaults)
            rows.append(
                {k: row[k] for k in ("bucket", "answered", "handled", "aht_s", "occupancy", "seconds")}
            )
        return rows

    async def _seconds(
        self, args: tuple[Any, ...], queue_ids: list[str] | None, agent_id: str | None
    ) -> dict[datetime, dict[str, float]]:
        out: dict[datetime, dict[str, float]] = {}
        for record in await self._fetch(AGENT_TIME, *args, queue_ids, agent_id):
            out.setdefault(record["bucket"], {})[record["state"]] = float(record["seconds"])
        return out

    async def _wrap_seconds(self, args: tuple[Any, ...], queue_ids: list[str]) -> dict[datetime, float]:
        """Wrap-up after the queues' calls, by the bucket in which the call entered."""
        rows = await self._fetch(
            BUCKETS
            + """
            SELECT b.local_start AS bucket, sum(extract(epoch FROM i.until - i.since)) AS seconds
            FROM buckets b
            JOIN queue_calls e ON e.queue_id = ANY($5)
                            AND e.entered_at >= (SELECT min(b_start) FROM buckets)
                            AND e.entered_at < (SELECT max(b_end) FROM buckets)
                            AND """
            + bucket_of("e.entered_at")
            + """ = b.local_start
            JOIN agent_states i ON i.call_id = e.call_id AND i.state = 'wrap_up' AND i.until IS NOT NULL
            GROUP BY b.local_start
            """,
            *args,
            queue_ids,
        )
        return {r["bucket"]: float(r["seconds"]) for r in rows}

    async def known_queue(self, queue_id: str) -> bool:
        return bool(
            await self.db.pool.fetchval(
                "SELECT EXISTS (SELECT 1 FROM queue_log WHERE queue_id = $1)", queue_id
            )
        )

    async def known_agent(self, agent_id: str) -> bool:
        return bool(
            await self.db.pool.fetchval(
                "SELECT EXISTS (SELECT 1 FROM agent_states WHERE agent_id = $1)", agent_id
            )
        )

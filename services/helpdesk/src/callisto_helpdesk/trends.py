"""Trends: per day, week or month, how many tickets came, the most frequent categories and the
most frequent terms of their subjects and descriptions (a term counts once per ticket), and the
share of those under an SLA policy that have not breached it (SLA attainment)."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import datetime
from typing import Any, Literal

from callisto_helpdesk.classifier import words
from callisto_runtime.database import Database

Period = Literal["day", "week", "month"]
MAX_TICKETS = 50_000


async def trends(
    database: Database, start: datetime, end: datetime, period: Period, top: int, timezone: str
) -> list[dict[str, Any]]:
    rows = await database.pool.fetch(
        "SELECT date_trunc($3, created_at AT TIME ZONE $4)::date AS period, category_id, subject,"
        " description, sla_policy_id, sla_standing FROM tickets WHERE created_at >= $1 AND created_at < $2"
        " ORDER BY created_at LIMIT $5",
        start, end, period, timezone, MAX_TICKETS,
    )  # fmt: skip
    tickets: Counter[Any] = Counter()
    categories: dict[Any, Counter[str]] = defaultdict(Counter)
    terms: dict[Any, Counter[str]] = defaultdict(Counter)
    measured: Counter[Any] = Counter()
    breached: Counter[Any] = Counter()
    for row in rows:
        if row["sla_policy_id"] is not None:
            measured[row["period"]] += 1
            breached[row["period"]] += row["sla_standing"] == "breached"
        tickets[row["period"]] += 1
        categories[row["period"]][row["category_id"] or "triage"] += 1
        terms[row["period"]].update(set(words(f"{row['subject']}\n{row['description']}")))
    return [
        {
            "period": day.isoformat(),
            "tickets": tickets[day],
            "categories": [{"category_id": c, "tickets": n} for c, n in categories[day].most_common(top)],
            "terms": [{"term": t, "tickets": n} for t, n in terms[day].most_common(top)],
            "sla_measured": measured[day],
            "sla_met": round(1 - breached[day] / measured[day], 4) if measured[day] else None,
        }
        for day in sorted(tickets)
    ]

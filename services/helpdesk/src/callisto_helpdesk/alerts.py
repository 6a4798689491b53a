"""Monitoring alerts to tickets: the Prometheus Alertmanager webhook (payload version 4).

One ticket per alert fingerprint while it lasts: a repeated notification changes nothing, an alert
firing again after it resolved is a comment, a resolved alert annotates its ticket (which people
still resolve, having looked). Priority from the ``severity`` label, category from the rules of the
configuration document ``helpdesk.alert-rules`` (seeded from ``alerts.yaml``; a new version is used
for the next alert; no rule: triage, for a human); critical alerts also notify management. Each
fingerprint is handled under a PostgreSQL advisory lock, so concurrent deliveries of one alert
(Alertmanager retries) never open two tickets.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator

from callisto_helpdesk.desk import TicketDesk
from callisto_helpdesk.lifecycle import Level
from callisto_helpdesk.metrics import HelpdeskMetrics
from callisto_helpdesk.notices import Notices
from callisto_helpdesk.tickets import CATEGORY_PATTERN, CommentIn, TicketIn

DEFAULT_RULES = Path(__file__).with_name("alerts.yaml")
CLOSED = ("closed", "merged")


class Alert(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    status: Literal["firing", "resolved"]
    labels: dict[str, str] = Field(min_length=1)
    annotations: dict[str, str] = {}
    startsAt: datetime  # noqa: N815 - Alertmanager's names
    endsAt: datetime | None = None  # noqa: N815
    generatorURL: str = Field(default="", max_length=2000)  # noqa: N815
    fingerprint: str = Field(pattern=r"^[0-9a-fA-F]{1,64}$")


class AlertmanagerWebhook(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    version: Literal["4"]
    status: Literal["firing", "resolved"]
    receiver: str = Field(max_length=200)
    groupKey: str = Field(default="", max_length=2000)  # noqa: N815
    externalURL: str = Field(default="", max_length=2000)  # noqa: N815
    alerts: list[Alert] = Field(min_length=1, max_length=1000)
    truncatedAlerts: int = Field(default=0, ge=0)  # noqa: N815


Level1to3 = Annotated[int, Field(ge=1, le=3, description="1 high, 2 medium, 3 low")]


class AlertRule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    match: dict[str, str] = Field(min_length=1, description="label: regular expression of its whole value")
    category: str = Field(pattern=CATEGORY_PATTERN)

    @field_validator("match")
    @classmethod
    def _patterns(cls, match: dict[str, str]) -> dict[str, str]:
        for label, pattern in match.items():
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"label {label!r}: {pattern!r} is not a regular expression ({exc})") from exc
        return match


class AlertRulesDocument(BaseModel):
    """The configuration document ``helpdesk.alert-rules`` (seeded from ``alerts.yaml``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    severity: dict[str, tuple[Level1to3, Level1to3]] = Field(
        default={}, description="label `severity` (any case): [urgency, impact]"
    )
    unknown_severity: tuple[Level1to3, Level1to3] = (2, 3)
    rules: list[AlertRule] = Field(default=[], max_length=500, description="the first that matches wins")

    def summary(self) -> str:
        return f"{len(self.rules)} rules, {len(self.severity)} severities"


def read_rules(path: Path = DEFAULT_RULES) -> AlertRulesDocument:
    """The rules file (the document's first version): a bad file stops the start."""
    return AlertRulesDocument.model_validate(yaml.safe_load(path.read_text()) or {})


@dataclass(frozen=True)
class AlertRules:
    severity: dict[str, tuple[int, int]]
    unknown: tuple[int, int]
    rules: list[tuple[dict[str, re.Pattern[str]], str]]

    @classmethod
    def of(cls, document: AlertRulesDocument) -> AlertRules:
        return cls(
            {name.lower(): levels for name, levels in document.severity.items()},
            document.unknown_severity,
            [
                ({label: re.compile(pattern) for label, pattern in rule.match.items()}, rule.category)
                for rule in document.rules
            ],
        )

    def category(self, labels: dict[str, str]) -> str | None:
        for match, category in self.rules:
            if all(label in labels and p.fullmatch(labels[label]) for label, p in match.items()):
                return category
        return None

    def levels(self, labels: dict[str, str]) -> tuple[Level, Level]:
        urgency, impact = self.severity.get(labels.get("severity", "").lower(), self.unknown)
        return Level(urgency), Level(impact)


def describe(alert: Alert) -> tuple[str, str]:
    """Subject and description of an alert's ticket."""
    name = alert.labels.get("alertname", "alert")
    summary = alert.annotations.get("summary") or alert.labels.get("instance", "")
    severity = alert.labels.get("severity", "unknown")
    subject = f"[{severity}] {name}: {summary}" if summary else f"[{severity}] {name}"
    lines = [alert.annotations.get("description", ""), "", f"Firing since {alert.startsAt.isoformat()}."]
    lines += [f"{k} = {v}" for k, v in sorted(alert.labels.items())]
    if alert.generatorURL:
        lines.append(f"Source: {alert.generatorURL}")
    lines.append(f"Fingerprint: {alert.fingerprint}")
    return subject[:200], "\n".join(lines).strip()[:20000]


class AlertIntake:
    def __init__(
        self, desk: TicketDesk, notices: Notices, rules: AlertRules, metrics: HelpdeskMetrics
    ) -> None:
        self.desk = desk
        self.notices = notices
        self.rules = rules
        self.metrics = metrics

    async def receive(self, hook: AlertmanagerWebhook, actor: str) -> list[dict[str, Any]]:
        """What became of each alert: opened, repeated, fired_again, resolved, ignored."""
        return [await self._one(alert, actor) for alert in hook.alerts]

    async def _one(self, alert: Alert, actor: str) -> dict[str, Any]:
        pool = self.desk.store.db.pool
        async with pool.acquire() as lock:
            await lock.execute("SELECT pg_advisory_lock(hashtext($1))", alert.fingerprint)
            try:
                outcome, ticket_id = await self._handle(alert, actor)
            finally:
                await lock.execute("SELECT pg_advisory_unlock(hashtext($1))", alert.fingerprint)
        self.metrics.alerts.labels(outcome).inc()
        return {"fingerprint": alert.fingerprint, "outcome": outcome, "ticket_id": ticket_id}

    async def _handle(self, alert: Alert, actor: str) -> tuple[str, str | None]:
        pool = self.desk.store.db.pool
        known = await pool.fetchrow(
            "SELECT a.*, t.state FROM alert_tickets a JOIN tickets t ON t.id = a.ticket_id"
            " WHERE fingerprint = $1",
            alert.fingerprint,
        )
        live = known is not None and known["state"] not in CLOSED
        if alert.status == "resolved":
            if not live or known is None or known["status"] == "resolved":
                return "ignored", known["ticket_id"] if known else None
            ended = alert.endsAt.isoformat() if alert.endsAt else "now"
            await self._note(known["ticket_id"], f"The alert resolved at {ended}.", actor)
            await self._mark(alert, known["ticket_id"])
            return "resolved", known["ticket_id"]
        if live and known is not None:
            if known["status"] == "firing" and known["starts_at"] == alert.startsAt:
                await pool.execute(
                    "UPDATE alert_tickets SET last_seen = now() WHERE fingerprint = $1", alert.fingerprint
                )
                return "repeated", known["ticket_id"]
            await self._note(
                known["ticket_id"], f"The alert fires again since {alert.startsAt.isoformat()}.", actor
            )
            await self._mark(alert, known["ticket_id"])
            return "fired_again", known["ticket_id"]
        return "opened", await self._open(alert, actor)

    async def _open(self, alert: Alert, actor: str) -> str:
        subject, description = describe(alert)
        urgency, impact = self.rules.levels(alert.labels)
        category = await self._category(alert.labels)
        critical = urgency is Level.HIGH and impact is Level.HIGH

        async def tell_management(conn: Any, _: Any, row: Any) -> None:
            if critical:
                await self.notices.add(
                    conn, row, "critical_alert", await self.notices.management(conn),
                    f"Critical alert, ticket {row['number']}: {row['subject']}", row["description"],
                )  # fmt: skip

        body = TicketIn(
            subject=subject, description=description, category_id=category, channel="monitoring",
            urgency=urgency, impact=impact,
        )  # fmt: skip
        ticket = await self.desk.open(body, actor, also=tell_management)
        await self._mark(alert, ticket.ticket_id)
        return ticket.ticket_id

    async def _category(self, labels: dict[str, str]) -> str:
        """A ``category`` label naming a known category, else the first matching rule's (when that
        category still exists), else triage."""
        for wanted in (labels.get("category"), self.rules.category(labels)):
            if wanted and await self.desk.store.category(wanted):
                return wanted
        return "triage"

    async def _note(self, ticket_id: str, text: str, actor: str) -> None:
        await self.desk.comment(ticket_id, CommentIn(body=text, public=False), actor)

    async def _mark(self, alert: Alert, ticket_id: str) -> None:
        await self.desk.store.db.pool.execute(
            "INSERT INTO alert_tickets (fingerprint, ticket_id, status, starts_at, ends_at)"
            " VALUES ($1, $2, $3, $4, $5) ON CONFLICT (fingerprint) DO UPDATE SET"
            " ticket_id = EXCLUDED.ticket_id, status = EXCLUDED.status,"
            " starts_at = EXCLUDED.starts_at, ends_at = EXCLUDED.ends_at, last_seen = now()",
            alert.fingerprint, ticket_id, alert.status, alert.startsAt, alert.endsAt,
        )  # fmt: skip

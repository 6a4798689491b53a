"""/api/v1/intake/alertmanager (Prometheus Alertmanager's webhook receiver), /api/v1/classifier
(how well the ticket classifier does, retrain now, try a text) and /api/v1/trends."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from callisto_helpdesk.alerts import AlertIntake, AlertmanagerWebhook
from callisto_helpdesk.api.views import AlertsReceived, ClassifierReport, RetrainResult, Suggestion, TrendRow
from callisto_helpdesk.classification import Classification
from callisto_helpdesk.errors import MalformedAlert
from callisto_helpdesk.trends import Period, trends
from callisto_runtime import BadRequest, Service
from callisto_runtime.database import Database
from callisto_runtime.tokens import Claims

MAX_TREND_DAYS = 400


class TextIn(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    text: str = Field(min_length=1, max_length=20000)


def router(
    service: Service, alerts: AlertIntake, classification: Classification, database: Database, time_zone: str
) -> APIRouter:
    api = APIRouter(prefix="/api/v1", tags=["intake"])
    may_read = service.require("helpdesk.tickets.read")

    @api.post(
        "/intake/alertmanager",
        summary="Alertmanager webhook (version 4): alerts become tickets, one per fingerprint",
        responses={422: {"description": "not an Alertmanager payload; nothing is written"}},
    )
    async def alertmanager(
        request: Request, claims: Claims = service.require("helpdesk.intake.alerts")
    ) -> AlertsReceived:
        try:
            hook = AlertmanagerWebhook.model_validate_json(await request.body())
        except ValidationError as refused:
            problems = [
                {"at": ".".join(str(p) for p in e["loc"]), "problem": e["msg"]} for e in refused.errors()[:20]
            ]
            raise MalformedAlert("not an Alertmanager webhook payload", {"errors": problems}) from None
        return AlertsReceived.model_validate({"alerts": await alerts.receive(hook, claims.subject)})

    @api.get(
        "/classifier", summary="The classifier: active, threshold, last training and its held-out scores"
    )
    async def classifier(claims: Claims = may_read) -> ClassifierReport:
        return ClassifierReport.model_validate(await classification.report())

    @api.post("/classifier/retrain", summary="Learn again from the resolved tickets now")
    async def retrain(claims: Claims = service.require("helpdesk.classifier.update")) -> RetrainResult:
        return RetrainResult.model_validate(await classification.retrain())

    @api.post("/classifier/suggest", summary="What the classifier would say of a text")
    async def suggest(body: TextIn, claims: Claims = may_read) -> Suggestion | None:
        found = classification.suggest(body.text)
        return Suggestion.model_validate(found.shown(found.confident)) if found else None

    @api.get("/trends", summary="Tickets, top categories and top terms per day, week or month")
    async def show_trends(
        since: Annotated[datetime | None, Query(alias="from")] = None,
        until: Annotated[datetime | None, Query(alias="to")] = None,
        period: Annotated[Period, Query()] = "day",
        top: Annotated[int, Query(ge=1, le=50)] = 10,
        claims: Claims = may_read,
    ) -> list[TrendRow]:
        end = until or datetime.now(UTC)
        start = since or end - timedelta(days=7)
        if start.tzinfo is None or end.tzinfo is None:
            raise BadRequest("give times with their offset", {"from": str(start), "to": str(end)})
        if not timedelta(0) < end - start <= timedelta(days=MAX_TREND_DAYS):
            raise BadRequest(f"from must come before to, at most {MAX_TREND_DAYS} days", {})
        return [
            TrendRow.model_validate(row) for row in await trends(database, start, end, period, top, time_zone)
        ]

    return api

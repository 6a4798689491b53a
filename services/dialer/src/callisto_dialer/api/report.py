"""/api/v1/campaigns/{id}/report: the campaign's report (report.py) as JSON, CSV (``part=contacts`` or
``attempts``) or XLSX (a sheet each, and the summary)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Response
from pydantic import BaseModel

from callisto_dialer.api.attempts import AttemptEntry
from callisto_dialer.report import campaign_report, to_csv, to_xlsx
from callisto_dialer.store import DialerStore
from callisto_protocol.ids import TOKEN_PATTERN
from callisto_runtime import Service
from callisto_runtime.database import Database
from callisto_runtime.problems import responses
from callisto_runtime.tokens import Claims

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class ReportSummary(BaseModel):
    campaign_id: str
    name: str
    state: str
    policy: str
    contacts: int
    attempted: int
    attempts: int
    dialled: int
    live_answered: int
    agent_answered: int
    abandoned: int
    right_party_contacts: int
    promises: int
    promised_amount: Decimal
    paid: int
    do_not_call: int
    penetration: float | None
    contact_rate: float | None
    abandon_rate: float | None


class ReportContact(BaseModel):
    external_id: str
    name: str
    state: str
    outcome: str | None
    attempts: int
    last_attempt_at: datetime | None
    amount_owed: Decimal | None
    due_date: date | None
    disposition: str | None
    promised_amount: Decimal | None
    promised_for: date | None
    note: str | None


class CampaignReport(BaseModel):
    summary: ReportSummary
    contacts: list[ReportContact]
    attempts: list[AttemptEntry]


def router(service: Service, store: DialerStore, database: Database) -> APIRouter:
    api = APIRouter(prefix="/api/v1/campaigns", tags=["campaigns"])

    @api.get(
        "/{campaign_id}/report",
        summary="The campaign's report: summary, a final row per contact, every attempt",
        response_model=CampaignReport,
        responses={**responses(404), 200: {"content": {"text/csv": {}, XLSX: {}}}},
    )
    async def report(
        campaign_id: Annotated[str, Path(pattern=TOKEN_PATTERN)],
        format: Literal["json", "csv", "xlsx"] = "json",
        part: Literal["contacts", "attempts"] = "contacts",
        _: Claims = service.require("dialer.campaigns.read"),
    ) -> Any:
        found = await campaign_report(database, await store.campaign(campaign_id))
        name = f"campaign-{campaign_id}"
        if format == "csv":
            return Response(
                to_csv(found, part), media_type="text/csv; charset=utf-8",
                headers={"Content-Disposition": f'attachment; filename="{name}-{part}.csv"'},
            )  # fmt: skip
        if format == "xlsx":
            return Response(
                to_xlsx(found), media_type=XLSX,
                headers={"Content-Disposition": f'attachment; filename="{name}.xlsx"'},
            )  # fmt: skip
        return CampaignReport.model_validate(found)

    return api

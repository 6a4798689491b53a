"""What the helpdesk API answers besides tickets and contacts: call cards, categories, SLA policies,
staff, alert intake, the classifier and trends."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field


class CardTicket(BaseModel):
    ticket_id: str
    number: int
    subject: str
    state: str


class CallCard(BaseModel):
    call_id: str
    direction: str
    number: str = Field(description="the customer's number as it came")
    number_e164: str | None
    contact_id: str | None
    dialled: str
    trunk: str | None
    queue_id: str | None
    agent_id: str | None
    state: str
    seq: int
    started_at: datetime
    answered_at: datetime | None
    ended_at: datetime | None
    ended_by: str | None
    sip_status: int | None
    wait_s: float | None
    outcome: str | None = Field(description="answered, abandoned or unanswered once ended")
    ivr: dict[str, str] = Field(description="digits entered per IVR step")
    recording_id: str | None
    recording_url: str | None
    recording_s: float | None
    talk_s: float | None
    disposition: str | None = Field(default=None, description="what the agent said of the call in wrap-up")
    wrap_up_note: str | None = None
    tickets: list[CardTicket] = Field(default=[], description="tickets about the call (one card only)")


class Category(BaseModel):
    id: str
    parent_id: str | None
    name: str
    department: str
    position: int
    active: bool


class Policy(BaseModel):
    id: str
    category_id: str | None
    priority: int | None
    calendar: str
    first_response_s: int
    resolution_s: int
    warn_at: float
    escalation: list[str]


class SlaOverview(BaseModel):
    calendars: dict[str, dict[str, Any]] = Field(description="business calendars by name, as written")
    policies: list[Policy]


class StaffMember(BaseModel):
    id: str
    name: str
    email: str | None
    manager_id: str | None
    management: bool


class AlertOutcome(BaseModel):
    fingerprint: str
    outcome: str = Field(description="opened, repeated, fired_again, resolved or ignored")
    ticket_id: str | None


class AlertsReceived(BaseModel):
    alerts: list[AlertOutcome]


class ClassifierRun(BaseModel):
    id: int
    trained_at: datetime
    samples: int
    held_out: int
    accuracy: float | None
    classes: int
    threshold: float
    routed_accuracy: float | None
    routed_share: float | None


class ClassifierReport(BaseModel):
    active: bool
    threshold: float
    classes: int
    last_run: ClassifierRun | None


class RetrainResult(BaseModel):
    trained: bool
    samples: int | None = Field(default=None, description="when not trained: the resolved tickets found")
    min_samples: int | None = None
    active: bool | None = None
    threshold: float | None = None
    classes: int | None = None
    last_run: ClassifierRun | None = None


class Alternative(BaseModel):
    category_id: str
    confidence: float


class Suggestion(BaseModel):
    category_id: str
    confidence: float
    routed: bool
    alternatives: list[Alternative]


class CategoryCount(BaseModel):
    category_id: str
    tickets: int


class TermCount(BaseModel):
    term: str
    tickets: int


class TrendRow(BaseModel):
    period: str
    tickets: int
    categories: list[CategoryCount]
    terms: list[TermCount]
    sla_measured: int = Field(default=0, description="tickets under an SLA policy")
    sla_met: float | None = Field(default=None, description="share of those not breached")


class AttachmentInfo(BaseModel):
    attachment_id: str
    kind: str
    name: str
    content_type: str
    size: int
    sha256: str
    created_by: str
    created_at: datetime

"""Tickets as operators and integrations write them (validated here) and as they are shown."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, computed_field

from callisto_helpdesk.lifecycle import Action, Level, PendingOn, desk_actions
from callisto_protocol.ids import TOKEN_PATTERN

Channel = Literal["phone", "email", "portal", "chat", "monitoring"]
CATEGORY_PATTERN = r"^[a-z0-9-]{1,64}$"


class TicketIn(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    subject: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=20000)
    category_id: str | None = Field(default=None, pattern=CATEGORY_PATTERN, description="None: triage")
    channel: Channel = "phone"
    urgency: Level = Level.MEDIUM
    impact: Level = Level.MEDIUM
    contact_id: str | None = Field(default=None, pattern=TOKEN_PATTERN)
    call_id: str | None = Field(default=None, pattern=TOKEN_PATTERN, description="the call it came from")
    assignee: str | None = Field(default=None, min_length=1, max_length=100)


class ActionIn(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    action: Action
    assignee: str | None = Field(default=None, min_length=1, max_length=100)
    pending_on: PendingOn | None = None
    into: str | None = Field(default=None, pattern=TOKEN_PATTERN, description="merge: the ticket kept")
    note: str = Field(default="", max_length=2000)


class CommentIn(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    body: str = Field(min_length=1, max_length=20000)
    public: bool = Field(default=False, description="shown to the customer; internal otherwise")


class Ticket(BaseModel):
    ticket_id: str
    number: int
    subject: str
    description: str
    category_id: str | None
    channel: str
    urgency: int
    impact: int
    priority: int
    state: str
    pending_on: str | None
    contact_id: str | None
    department: str
    assignee: str | None
    created_by: str
    call_id: str | None
    merged_into: str | None
    created_at: datetime
    updated_at: datetime
    closed_at: datetime | None
    sla_policy_id: str | None = None
    sla_standing: str = Field(default="ok", description="the worse of first response and resolution")
    response_due: datetime | None = Field(default=None, description="while the clock runs")
    resolution_due: datetime | None = None
    responded_at: datetime | None = None
    sla_level: int = Field(default=0, description="escalation level reached by breaches")
    escalated_to: str | None = None
    confirm_by: datetime | None = Field(default=None, description="closed then unless the customer answers")
    suggestion: dict[str, Any] | None = Field(default=None, description="the classifier's category")
    comments: list[dict[str, Any]] = []
    history: list[dict[str, Any]] = []
    attachments: list[dict[str, Any]] = []
    sla: dict[str, Any] | None = None

    @computed_field(description="what a person may do to it now (the lifecycle's actions)")  # type: ignore[prop-decorator]
    @property
    def actions(self) -> list[str]:
        return desk_actions(self.state)


class TicketPatch(BaseModel):
    """Fields an operator corrects (a triaged ticket gets its category; priority follows urgency and
    impact; the department follows the category)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    subject: str | None = Field(default=None, min_length=1, max_length=200)
    category_id: str | None = Field(default=None, pattern=CATEGORY_PATTERN)
    urgency: Level | None = None
    impact: Level | None = None
    note: str = Field(default="", max_length=2000)

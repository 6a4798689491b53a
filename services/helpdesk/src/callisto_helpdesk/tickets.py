"""Tickets as operators and integrations write them (validated here) and as they are shown."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from callisto_helpdesk.lifecycle import Action, Level, PendingOn
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
    comments: list[dict[str, Any]] = []
    history: list[dict[str, Any]] = []
    sla: dict[str, Any] | None = None

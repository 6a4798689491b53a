"""The dialer: outbound campaigns change state (draft, scheduled, running, paused, completed,
stopped); other services ask which campaigns there are and how far each has come."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field

from callisto_protocol.ids import Token
from callisto_protocol.messages import Command, Event, Reply


class CampaignState(StrEnum):
    DRAFT = "draft"
    SCHEDULED = "scheduled"
    RUNNING = "running"
    PAUSED = "paused"
    COMPLETED = "completed"
    STOPPED = "stopped"


class DialMode(StrEnum):
    PREVIEW = "preview"  # the agent sees the card first, then dials or skips
    PROGRESSIVE = "progressive"  # one call per ready agent
    PREDICTIVE = "predictive"  # paced to the abandon limit
    AGENTLESS = "agentless"  # a message; optionally "press 1" into the campaign's queue


class CampaignStateChanged(Event):
    message_type: ClassVar[str] = "dialer.campaign-state"
    subject: ClassVar[str] = "cc.dialer.campaign.{campaign_id}.state"
    publisher: ClassVar[str] = "dialer"
    campaign_id: Token
    state: CampaignState
    previous: CampaignState | None = None
    by: str = Field(min_length=1, max_length=200, description="who: a person, or system")
    reason: str = Field(default="", max_length=500)


class CampaignFigures(Event):
    """A running campaign's figures, every few seconds (the wallboard's and the supervisor's)."""

    message_type: ClassVar[str] = "dialer.campaign-figures"
    subject: ClassVar[str] = "cc.dialer.campaign.{campaign_id}.figures"
    publisher: ClassVar[str] = "dialer"
    campaign_id: Token
    at: datetime
    dialled: int = Field(ge=0, description="today (UTC)")
    answered: int = Field(ge=0, description="live-answered today")
    abandoned: int = Field(ge=0, description="today")
    abandon_rate: float | None = Field(
        default=None, description="abandoned ÷ live-answered over the policy's window"
    )
    abandon_limit: float = Field(gt=0, le=1)
    ringing: int = Field(ge=0, description="calls ringing now")
    waiting: int = Field(ge=0, description="answered customers waiting for an agent now")
    agents: int = Field(ge=0, description="the queue's agents present (ready, on a call, in wrap-up)")
    ready: int = Field(ge=0)
    dial_level: float = Field(ge=0, description="calls ringing per agent present")
    remaining: int = Field(ge=0, description="contacts still to be called, or called again")


class PreviewOffered(Event):
    """A preview campaign's next contact for an agent: the card to read before dialling or skipping
    (``POST /api/v1/attempts/{attempt_id}/preview`` on the dialer)."""

    message_type: ClassVar[str] = "dialer.preview-offered"
    subject: ClassVar[str] = "cc.dialer.agent.{agent_id}.preview"
    publisher: ClassVar[str] = "dialer"
    agent_id: Token
    attempt_id: Token
    campaign_id: Token
    external_id: str = Field(min_length=1, max_length=100)
    name: str = Field(default="", max_length=200)
    number: str = Field(min_length=2, max_length=16, description="the number that will be dialled (E.164)")
    amount_owed: str | None = Field(default=None, max_length=20, description="a decimal, as billing gave it")
    due_date: date | None = None
    attributes: dict[str, str] = {}


class CampaignSummary(BaseModel):
    model_config = ConfigDict(frozen=True)

    campaign_id: Token
    name: str
    state: CampaignState
    mode: DialMode
    queue_id: Token
    contacts: int = Field(ge=0, description="on the list (removed ones apart)")
    remaining: int = Field(ge=0, description="not yet finished: still to be called or to be called again")
    updated_at: datetime


class CampaignList(Reply):
    message_type: ClassVar[str] = "dialer.campaign-list"
    campaigns: list[CampaignSummary]


class ListCampaigns(Command):
    """Every campaign that is not finished (``finished`` too: the completed and stopped ones)."""

    message_type: ClassVar[str] = "dialer.list-campaigns"
    subject: ClassVar[str] = "cc.rpc.dialer.campaigns"
    reply_type: ClassVar[type[Reply]] = CampaignList
    finished: bool = False

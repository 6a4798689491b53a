"""Campaigns: their settings and their one state machine.

    draft ──schedule──▶ scheduled ──start──▶ running ◀──resume── paused
      ▲  ◀─unschedule──┘    │                 │  └──pause──▶──────┘
      └──────── start ──────┼─────────────────┘
                            └─stop─▶ stopped ◀─stop─ running, paused
                           running, paused ─complete─▶ completed

``start`` runs a draft or scheduled campaign at once; the runner starts a scheduled one at its
``starts_at`` and completes a running one when nothing is left to call or ``ends_at`` has passed. A
completed or stopped campaign is finished: its list and settings no longer change. The transition
table is the only place that says which action leads where; ``Campaigns.act`` is the only place a
state changes (locked row, log line, event)."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from callisto_dialer.errors import IllegalTransition
from callisto_protocol.dialer import CampaignState, DialMode
from callisto_protocol.ids import TOKEN_PATTERN

S = CampaignState
FINISHED = frozenset({S.COMPLETED, S.STOPPED})
NUMBER_PATTERN = r"^\+[1-9][0-9]{6,14}$"


class Action(StrEnum):
    SCHEDULE = "schedule"
    UNSCHEDULE = "unschedule"
    START = "start"
    PAUSE = "pause"
    RESUME = "resume"
    STOP = "stop"
    COMPLETE = "complete"


TRANSITIONS: dict[tuple[CampaignState, Action], CampaignState] = {
    (S.DRAFT, Action.SCHEDULE): S.SCHEDULED,
    (S.DRAFT, Action.START): S.RUNNING,
    (S.SCHEDULED, Action.UNSCHEDULE): S.DRAFT,
    (S.SCHEDULED, Action.START): S.RUNNING,
    (S.SCHEDULED, Action.STOP): S.STOPPED,
    (S.RUNNING, Action.PAUSE): S.PAUSED,
    (S.RUNNING, Action.STOP): S.STOPPED,
    (S.RUNNING, Action.COMPLETE): S.COMPLETED,
    (S.PAUSED, Action.RESUME): S.RUNNING,
    (S.PAUSED, Action.STOP): S.STOPPED,
    (S.PAUSED, Action.COMPLETE): S.COMPLETED,
}


def allowed_actions(state: CampaignState) -> list[Action]:
    return [action for (source, action) in TRANSITIONS if source is state]


def next_state(state: CampaignState, action: Action) -> CampaignState:
    found = TRANSITIONS.get((state, action))
    if found is None:
        allowed = [a.value for a in allowed_actions(state)]
        raise IllegalTransition(
            f"a {state.value} campaign cannot {action.value}"
            + (f"; it can {', '.join(allowed)}" if allowed else ": it is finished"),
            {"state": state.value, "action": action.value, "allowed": allowed},
        )
    return found


class Retries(BaseModel):
    """When a contact is called again after an attempt that did not reach them (seconds)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    busy_s: int = Field(default=1800, ge=60, le=7 * 86400)
    no_answer_s: int = Field(default=3600, ge=60, le=7 * 86400)
    machine_s: int = Field(default=4 * 3600, ge=60, le=7 * 86400)
    abandoned_s: int = Field(default=3600, ge=60, le=7 * 86400, description="the policy may ask more (72 h)")
    failed_s: int = Field(default=1800, ge=60, le=7 * 86400, description="a network or number failure")


class CampaignIn(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    mode: DialMode = DialMode.PROGRESSIVE
    queue_id: str = Field(
        pattern=TOKEN_PATTERN, description="the campaign's queue: its agents are the campaign's"
    )
    policy: Literal["ru-230fz", "us-tsr", "uk-ofcom"] = "ru-230fz"
    caller_id: str | None = Field(
        default=None, pattern=NUMBER_PATTERN, description="the number shown (E.164)"
    )
    priority: int = Field(default=5, ge=1, le=10, description="1 first: which campaign takes a shared agent")
    starts_at: AwareDatetime | None = Field(default=None, description="scheduled: started then")
    ends_at: AwareDatetime | None = Field(default=None, description="nothing is dialled after it")
    max_attempts: int = Field(default=5, ge=1, le=20, description="per contact, every number together")
    retries: Retries = Retries()
    holidays: list[date] = Field(default=[], max_length=400, description="rest days besides weekends")
    recording: bool = True
    dispositions: list[str] = Field(
        default=["promise-to-pay", "paid", "wrong-person", "refused", "call-back", "do-not-call"],
        max_length=50,
    )
    message_prompt: str = Field(
        default="outbound-abandoned", pattern=TOKEN_PATTERN,
        description="a dial-plan prompt: agentless, what is said; else what an abandoned customer hears",
    )  # fmt: skip
    press_key: str | None = Field(
        default=None,
        pattern=r"^[0-9*#]$",
        description="agentless: this key puts the customer through to the queue",
    )
    lines: int = Field(default=10, ge=1, le=500, description="agentless: calls at once")

    @model_validator(mode="after")
    def _span(self) -> CampaignIn:
        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            raise ValueError("ends_at must come after starts_at")
        return self


class CampaignNew(CampaignIn):
    id: str = Field(pattern=TOKEN_PATTERN)


class Campaign(CampaignNew):
    state: CampaignState
    actions: list[Action] = Field(description="what may be done with it now")
    contacts: int = Field(ge=0, description="on the list (removed ones apart)")
    remaining: int = Field(ge=0, description="still to be called, or to be called again")
    created_by: str
    created_at: datetime
    updated_at: datetime


class StateChange(BaseModel):
    action: Action
    reason: str = Field(default="", max_length=500)


class LogEntry(BaseModel):
    at: datetime
    previous: CampaignState | None
    state: CampaignState
    action: str
    by: str
    reason: str

"""What the ACD knows: queue definitions, agents with skills, calls waiting. Configuration is
validated here (pydantic); live records are plain dataclasses the ACD changes in one place."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time
from enum import StrEnum
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from callisto_protocol.agents import AgentState
from callisto_protocol.ids import TOKEN_PATTERN, TimeZoneName

SkillName = str


class Strategy(StrEnum):
    LONGEST_IDLE = "longest_idle"
    FEWEST_CALLS = "fewest_calls"
    ROUND_ROBIN = "round_robin"
    BEST_FIT = "best_fit"  # the highest skill levels for what the queue needs
    RING_ALL = "ring_all"  # every eligible ready agent rings; the first to answer takes the call
    RANDOM = "random"


class Window(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    start: time
    end: time

    @model_validator(mode="after")
    def _ordered(self) -> Window:
        if self.end <= self.start:
            raise ValueError("a window ends after it starts (split windows that pass midnight)")
        return self


class Calendar(BaseModel):
    """Opening hours per weekday (0 = Monday) in a time zone, and holidays (closed all day).
    A weekday that is not listed is closed."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    timezone: TimeZoneName = "UTC"
    weekly: dict[int, list[Window]] = Field(default_factory=dict)
    holidays: list[date] = Field(default=[], max_length=1000)

    @field_validator("weekly")
    @classmethod
    def _weekdays(cls, weekly: dict[int, list[Window]]) -> dict[int, list[Window]]:
        if any(day not in range(7) for day in weekly):
            raise ValueError("weekdays are 0 (Monday) to 6 (Sunday)")
        return weekly

    def is_open(self, at: datetime) -> bool:
        local = at.astimezone(ZoneInfo(self.timezone))
        if local.date() in self.holidays:
            return False
        now = local.time().replace(tzinfo=None)
        return any(w.start <= now < w.end for w in self.weekly.get(local.weekday(), []))


class Code(BaseModel):
    """A code people choose from a list: a not-ready reason, a call's disposition."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    code: str = Field(pattern=TOKEN_PATTERN)
    name: str = Field(default="", max_length=200)


def unique_codes(codes: list[Code]) -> list[Code]:
    seen = [c.code for c in codes]
    if len(set(seen)) != len(seen):
        raise ValueError("each code is listed once")
    return codes


class QueueConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(pattern=TOKEN_PATTERN)
    name: str = Field(default="", max_length=200)
    skills: dict[SkillName, int] = Field(default={}, max_length=50, description="skill → minimum level")
    weight: int = Field(default=0, ge=0, le=100, description="queue priority: worth weight x priority_step_s")
    strategy: Strategy = Strategy.LONGEST_IDLE
    service_level_s: float = Field(default=20.0, gt=0, le=3600, description="answer within this")
    service_level_target: float = Field(default=0.8, gt=0, le=1)
    max_wait_s: float | None = Field(default=None, gt=0, le=86400)
    max_length: int | None = Field(default=None, ge=1, le=100_000)
    wrap_up_s: float = Field(default=10.0, ge=0, le=3600)
    ring_timeout_s: float = Field(default=15.0, gt=0, le=120)
    priority_step_s: float = Field(default=30.0, gt=0, le=3600, description="aging: one priority level")
    personal_wait_s: float = Field(default=20.0, ge=0, le=600, description="wait for the caller's own agent")
    join_empty: bool = True
    leave_empty: bool = False
    overflow_target: str | None = Field(
        default=None, pattern=r"^(queue:[A-Za-z0-9_-]{1,64}|number:\+?[0-9]{2,20}|callback)$"
    )
    overflow_after_s: float | None = Field(default=None, gt=0, le=86400)
    default_handle_s: float = Field(default=180.0, gt=0, le=36000, description="until calls were handled")
    hours: Calendar | None = None
    dispositions: list[Code] = Field(
        default=[], max_length=100, description="what an agent says of a call in wrap-up (none: free)"
    )

    @field_validator("skills")
    @classmethod
    def _levels(cls, skills: dict[str, int]) -> dict[str, int]:
        return check_skills(skills)

    @field_validator("dispositions")
    @classmethod
    def _dispositions(cls, codes: list[Code]) -> list[Code]:
        return unique_codes(codes)


class AgentProfile(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(pattern=TOKEN_PATTERN)
    name: str = Field(default="", max_length=200)
    skills: dict[SkillName, int] = Field(default={}, max_length=50, description="skill → level 1-10")

    @field_validator("skills")
    @classmethod
    def _levels(cls, skills: dict[str, int]) -> dict[str, int]:
        return check_skills(skills)


def check_skills(skills: dict[str, int]) -> dict[str, int]:
    for name, level in skills.items():
        if not 1 <= level <= 10:
            raise ValueError(f"skill {name!r}: levels are 1 to 10, not {level}")
        if not name or len(name) > 64 or not all(c.isalnum() or c in "-_" for c in name):
            raise ValueError(f"skill name {name[:70]!r} is not a token")
    return skills


def qualifies(agent_skills: dict[str, int], required: dict[str, int]) -> bool:
    return all(agent_skills.get(skill, 0) >= level for skill, level in required.items())


@dataclass
class Agent:
    profile: AgentProfile
    state: AgentState = AgentState.LOGGED_OUT
    reason: str | None = None
    since: float = 0.0
    seq: int = 0
    call_id: str | None = None
    offer_id: str | None = None
    offer_deadline: float | None = None
    wrap_up_until: float | None = None
    after_call: str | None = None  # a not-ready reason asked for during a call
    idle_since: float = 0.0  # when the agent last became free (longest-idle routing)
    calls_handled: int = 0
    missed_in_row: int = 0
    missed_total: int = 0
    phone: bool | None = None  # the softphone registered (None: nothing heard from call-manager yet)
    last_call: str | None = None  # the answered call the agent last finished (its disposition is theirs)
    last_queue: str | None = None

    @property
    def id(self) -> str:
        return self.profile.id


class CallStatus(StrEnum):
    SCHEDULED = "scheduled"  # a callback before its window opens or its next try is due
    WAITING = "waiting"
    OFFERED = "offered"
    CONNECTED = "connected"


@dataclass
class Callback:
    """A call to make: the agent's phone rings first, then ``number``. Each try is a call of its
    own at call-manager (``attempt_id``); the callback keeps its place in line between tries."""

    number: str
    name: str = ""
    not_before: float | None = None
    not_after: float | None = None
    attempts: int = 3
    retry_after_s: float = 300.0
    tried: int = 0
    due: float | None = None  # when a scheduled callback joins the line (window start, next try)
    attempt_id: str | None = None  # call-manager's call of the current try
    replaced: str | None = None  # the waiting call it stands for


@dataclass
class Call:
    call_id: str
    queue_id: str
    caller: str
    priority: int
    skills: dict[str, int]
    personal_agent_id: str | None
    entered_at: float  # in this queue
    first_entered_at: float  # in the first queue (overflow keeps it)
    seq: int  # arrival order, the last tie-breaker
    status: CallStatus = CallStatus.WAITING
    offered_to: set[str] = field(default_factory=set)
    answered_by: str | None = None
    answered_at: float | None = None
    order: float = 0.0  # entered_at - priority x step: smaller is served first, whatever the time
    callback: Callback | None = None
    overflows: int = 0  # queues it was moved to by overflow

    def waited(self, now: float) -> float:
        return max(0.0, now - self.first_entered_at)

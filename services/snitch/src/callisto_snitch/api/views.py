"""What snitch's real-time API answers (README.md, "KPI definitions")."""

from __future__ import annotations

from pydantic import BaseModel, Field


class Figures(BaseModel):
    """Today's figures of a queue or a line."""

    name: str
    waiting: int
    longest_wait_s: float
    callbacks_pending: int
    offered: int
    answered: int
    abandoned: int
    short_abandoned: int
    overflowed: int
    timed_out: int
    to_callback: int
    handled: int
    callbacks_requested: int
    callbacks_done: int
    service_level: float | None = Field(description="on the basis the queue's definition chose")
    service_level_answered: float | None
    service_level_with_abandons: float | None
    service_level_s: float
    asa_s: float | None
    aht_s: float | None
    abandon_rate: float | None
    occupancy: float | None
    agents: dict[str, int] = Field(description="agents by state")
    staffed: int
    colours: dict[str, str | None] = Field(description="green, amber or red per figure with a target")


class LineFigures(Figures):
    queues: list[str] = []


class QueueNow(Figures):
    queue_id: str
    at: float


class LineNow(LineFigures):
    line_id: str
    at: float


class Everything(BaseModel):
    live: bool = Field(description="false while snitch cannot follow the bus")
    down_since: float | None
    at: float | None = None
    day_start: float | None = None
    queues: dict[str, Figures] = {}
    lines: dict[str, LineFigures] = {}


class AgentRow(BaseModel):
    agent_id: str
    name: str
    state: str
    since: float
    in_state_s: float
    reason: str | None
    call_id: str | None
    queues: list[str]
    handled: int
    seconds: dict[str, float] = Field(description="time in each state today")
    occupancy: float | None


class AgentRows(BaseModel):
    agents: list[AgentRow]

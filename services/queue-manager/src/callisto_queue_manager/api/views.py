"""What the queue-manager API answers: agents, callbacks, waiting calls, a queue's figures now."""

from __future__ import annotations

from pydantic import BaseModel, Field

from callisto_protocol.agents import AgentState


class AgentView(BaseModel):
    agent_id: str
    name: str
    skills: dict[str, int]
    state: AgentState
    reason: str | None
    since: float = Field(description="epoch seconds")
    seq: int
    call_id: str | None
    queues: list[str]
    calls_handled: int
    missed_in_row: int
    missed_total: int


class CallbackView(BaseModel):
    callback_id: str
    queue_id: str
    number: str
    name: str
    status: str
    priority: int
    position: int | None
    due: float | None
    not_after: float | None
    tried: int
    attempts: int
    agent_id: str | None
    replaced_call_id: str | None
    requested_at: float


class WaitingCall(BaseModel):
    call_id: str
    caller: str
    priority: int
    status: str
    position: int
    waited_s: float
    offered_to: list[str]
    personal_agent_id: str | None


class QueueStats(BaseModel):
    queue_id: str
    waiting: int
    offered: int
    longest_wait_s: float
    agents: dict[str, int] = Field(description="agents of the queue by state")
    staffed: int
    aht_s: float
    expected_wait_s: float | None
    erlang_c_wait_s: float | None

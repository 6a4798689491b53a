"""Agents: the state every other service sees. queue-manager is the single writer of agent state."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import ClassVar

from pydantic import Field

from callisto_protocol.ids import AgentId, CallId, QueueId
from callisto_protocol.messages import Event


class AgentState(StrEnum):
    LOGGED_OUT = "logged_out"
    NOT_READY = "not_ready"
    READY = "ready"
    RESERVED = "reserved"
    ON_CALL = "on_call"
    WRAP_UP = "wrap_up"


class AgentStateChanged(Event):
    """An agent entered a state. ``seq`` grows by one per change of that agent, so a receiver can
    drop a stale or duplicated event instead of resurrecting an old state."""

    message_type: ClassVar[str] = "agent.state"
    subject: ClassVar[str] = "cc.agent.{agent_id}.state"
    publisher: ClassVar[str] = "queue-manager"
    agent_id: AgentId
    seq: int = Field(ge=0)
    state: AgentState
    previous: AgentState | None = None
    since: datetime
    name: str = Field(default="", max_length=200)
    reason: str | None = Field(default=None, max_length=200)
    call_id: CallId | None = None
    queues: list[QueueId] = Field(default=[], max_length=1000)
    until: datetime | None = Field(default=None, description="when the wrap-up ends by itself")
    by: str | None = Field(
        default=None, max_length=128, description="who asked (a token's subject): the agent or a supervisor"
    )

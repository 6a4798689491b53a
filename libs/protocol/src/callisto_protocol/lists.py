"""Agent and call lists broadcast by core-bus: a full snapshot now and then, deltas in between.

A client applies deltas whose ``seq`` is exactly one more than what it holds; on a gap it asks for a
snapshot (``GetAgentList`` / ``GetCallList``) or waits for the next broadcast one.
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field

from callisto_protocol.agents import AgentState
from callisto_protocol.calls import CallDirection, CallState
from callisto_protocol.ids import AgentId, CallId, QueueId
from callisto_protocol.messages import Command, Event, Reply


class AgentEntry(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    agent_id: AgentId
    name: str = ""
    state: AgentState
    since: datetime
    reason: str | None = None
    call_id: CallId | None = None
    queues: list[QueueId] = []
    until: datetime | None = None  # when the wrap-up ends by itself


class CallEntry(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    call_id: CallId
    state: CallState
    since: datetime
    direction: CallDirection
    caller: str = ""
    dialled: str = ""
    queue_id: QueueId | None = None
    agent_id: AgentId | None = None


class AgentListSnapshot(Event):
    message_type: ClassVar[str] = "list.agents.snapshot"
    subject: ClassVar[str] = "cc.list.agents.snapshot"
    publisher: ClassVar[str] = "core-bus"
    seq: int = Field(ge=0)
    agents: list[AgentEntry]


class AgentListDelta(Event):
    message_type: ClassVar[str] = "list.agents.delta"
    subject: ClassVar[str] = "cc.list.agents.delta"
    publisher: ClassVar[str] = "core-bus"
    seq: int = Field(ge=1)
    upserted: list[AgentEntry] = []
    removed: list[AgentId] = []


class AgentList(Reply):
    message_type: ClassVar[str] = "list.agents"
    seq: int
    agents: list[AgentEntry]


class GetAgentList(Command):
    message_type: ClassVar[str] = "list.get-agents"
    subject: ClassVar[str] = "cc.rpc.core-bus.agent-list"
    reply_type: ClassVar[type[Reply]] = AgentList


class CallListSnapshot(Event):
    message_type: ClassVar[str] = "list.calls.snapshot"
    subject: ClassVar[str] = "cc.list.calls.snapshot"
    publisher: ClassVar[str] = "core-bus"
    seq: int = Field(ge=0)
    calls: list[CallEntry]


class CallListDelta(Event):
    message_type: ClassVar[str] = "list.calls.delta"
    subject: ClassVar[str] = "cc.list.calls.delta"
    publisher: ClassVar[str] = "core-bus"
    seq: int = Field(ge=1)
    upserted: list[CallEntry] = []
    removed: list[CallId] = []


class CallList(Reply):
    message_type: ClassVar[str] = "list.calls"
    seq: int
    calls: list[CallEntry]


class GetCallList(Command):
    message_type: ClassVar[str] = "list.get-calls"
    subject: ClassVar[str] = "cc.rpc.core-bus.call-list"
    reply_type: ClassVar[type[Reply]] = CallList

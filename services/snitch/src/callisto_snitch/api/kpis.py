"""/api/v1/kpis and /api/v1/agents: today's figures and the agent list as JSON, for integrators."""

from __future__ import annotations

import time
from typing import Annotated, Any

from fastapi import APIRouter, Path

from callisto_protocol.ids import TOKEN_PATTERN
from callisto_runtime import Service
from callisto_snitch.api.views import AgentRow, AgentRows, Everything, LineNow, QueueNow
from callisto_snitch.errors import UnknownAgent, UnknownLine, UnknownQueue
from callisto_snitch.realtime import RealTime

Id = Annotated[str, Path(pattern=TOKEN_PATTERN)]


def router(service: Service, live: RealTime) -> APIRouter:
    api = APIRouter(prefix="/api/v1", tags=["real time"])
    may_read = service.require("snitch.kpis.read")

    @api.get("/kpis", summary="Today's figures of every queue and line (refreshed each second)")
    async def everything(_: Any = may_read) -> Everything:
        return Everything.model_validate({**live.status(), **live.latest})

    @api.get("/kpis/queues/{queue_id}", summary="Today's figures of one queue")
    async def queue(queue_id: Id, _: Any = may_read) -> QueueNow:
        figures = live.latest["queues"].get(queue_id)
        if figures is None:
            raise UnknownQueue(f"no queue {queue_id!r} has been seen today", {"queue_id": queue_id})
        return QueueNow.model_validate({"queue_id": queue_id, "at": live.latest["at"], **figures})

    @api.get("/kpis/lines/{line_id}", summary="Today's figures of one line (a group of queues)")
    async def line(line_id: Id, _: Any = may_read) -> LineNow:
        figures = live.latest["lines"].get(line_id)
        if figures is None:
            raise UnknownLine(f"no line {line_id!r}", {"line_id": line_id})
        return LineNow.model_validate({"line_id": line_id, "at": live.latest["at"], **figures})

    @api.get("/agents", summary="Every agent: state, time in it, calls and time in each state today")
    async def agents(_: Any = may_read) -> AgentRows:
        return AgentRows.model_validate({"agents": live.board.agent_rows(time.time())})

    @api.get("/agents/{agent_id}", summary="One agent's row (operators: their own figures today)")
    async def agent(agent_id: Id, _: Any = service.require("snitch.agents.{agent_id}.read")) -> AgentRow:
        rows = live.board.agent_rows(time.time(), [agent_id])
        if not rows:
            raise UnknownAgent(f"no agent {agent_id!r} has been seen", {"agent_id": agent_id})
        return AgentRow.model_validate(rows[0])

    return api

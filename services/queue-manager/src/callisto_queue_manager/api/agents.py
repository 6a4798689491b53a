"""/api/v1/agents: agents, their skills and their states."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from pydantic import BaseModel, ConfigDict, Field

from callisto_protocol.ids import TOKEN_PATTERN
from callisto_protocol.queues import AgentRequest, AgentStatus, CallDisposed
from callisto_queue_manager.api.views import AgentView
from callisto_queue_manager.engine import Engine
from callisto_queue_manager.handlers import agent_status
from callisto_queue_manager.model import Agent, AgentProfile, Code
from callisto_runtime import BadRequest, Service
from callisto_runtime.tokens import Claims

AgentPath = Annotated[str, Path(pattern=TOKEN_PATTERN, description="agent id")]


class StateRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    request: AgentRequest
    reason: str | None = Field(default=None, max_length=100, description="reason code of not ready")


class WrapUp(BaseModel):
    model_config = ConfigDict(extra="forbid")

    call_id: str = Field(pattern=TOKEN_PATTERN, description="the agent's last finished call")
    disposition: str | None = Field(default=None, pattern=TOKEN_PATTERN, description="a code of the queue's")
    note: str = Field(default="", max_length=2000)


def view(agent: Agent, queues: list[str]) -> AgentView:
    return AgentView(
        agent_id=agent.id,
        name=agent.profile.name,
        skills=agent.profile.skills,
        state=agent.state.value,
        reason=agent.reason,
        since=agent.since,
        seq=agent.seq,
        call_id=agent.call_id,
        queues=queues,
        calls_handled=agent.calls_handled,
        missed_in_row=agent.missed_in_row,
        missed_total=agent.missed_total,
    )


def router(service: Service, engine: Engine, reasons: list[Code]) -> APIRouter:
    api = APIRouter(prefix="/api/v1", tags=["agents"])
    may_read_all = service.require("qm.agents.read")
    may_read = service.require("qm.agents.{agent_id}.read")
    may_update = service.require("qm.agents.update")
    may_change_state = service.require("qm.agents.{agent_id}.state.update")

    @api.get("/agents", summary="Every agent with skills and state")
    async def agents(claims: Claims = may_read_all) -> list[AgentView]:
        acd = engine.acd
        return [view(a, acd.agent_queues[a.id]) for a in sorted(acd.agents.values(), key=lambda a: a.id)]

    @api.get("/agents/{agent_id}", summary="One agent (operators: their own)")
    async def agent(agent_id: AgentPath, claims: Claims = may_read) -> AgentView:
        return await engine.run(lambda acd, now: view(acd.agent(agent_id), acd.agent_queues[agent_id]))

    @api.put("/agents/{agent_id}", summary="Create an agent or change their name and skills (queues follow)")
    async def put(agent_id: AgentPath, body: AgentProfile, claims: Claims = may_update) -> AgentView:
        if body.id != agent_id:
            raise BadRequest("the body's id differs from the path's", {"agent_id": agent_id, "id": body.id})
        await engine.store.save_profile(body)
        return await engine.run(lambda acd, now: view(acd.set_agent(body, now), acd.agent_queues[agent_id]))

    @api.post(
        "/agents/{agent_id}/state",
        summary="Log in, ready, not ready (with a reason), log out",
        responses={409: {"description": "the state does not allow it (e.g. logging out during a call)"}},
    )
    async def state(
        agent_id: AgentPath, body: StateRequest, claims: Claims = may_change_state
    ) -> AgentStatus:
        return await engine.run(
            lambda acd, now: agent_status(
                acd.request(agent_id, body.request, body.reason, now, by=claims.subject)
            )
        )

    @api.get("/reasons", summary="The not-ready reasons people choose from")
    async def reason_codes(claims: Claims = service.require("qm.queues.read")) -> list[Code]:
        return reasons

    @api.post(
        "/agents/{agent_id}/wrap-up",
        summary="Say how the last finished call ended (a disposition of its queue) and note it",
        responses={
            409: {"description": "not the agent's last finished call"},
            422: {"description": "not a disposition of the call's queue"},
        },
    )
    async def wrap_up(agent_id: AgentPath, body: WrapUp, claims: Claims = may_change_state) -> CallDisposed:
        said = body.call_id, body.disposition, body.note
        return await engine.run(lambda acd, now: acd.dispose(agent_id, *said, now, claims.subject))

    return api

"""/api/v1/agents and /api/v1/calls: the current lists as core-bus broadcasts them."""

from __future__ import annotations

from fastapi import APIRouter

from callisto_core_bus.suite import Suite
from callisto_protocol.lists import AgentList, CallList
from callisto_runtime.tokens import Claims


def router(suite: Suite) -> APIRouter:
    api = APIRouter(prefix="/api/v1", tags=["lists"])
    may_read_agents = suite.service.require("core-bus.agents.read")
    may_read_calls = suite.service.require("core-bus.calls.read")

    @api.get("/agents", summary="Every logged-in agent and its state")
    async def agents(claims: Claims = may_read_agents) -> AgentList:
        return AgentList(seq=suite.agents.seq, agents=suite.agents.entries())

    @api.get("/calls", summary="Every call in progress")
    async def calls(claims: Claims = may_read_calls) -> CallList:
        return CallList(seq=suite.calls.seq, calls=suite.calls.entries())

    return api

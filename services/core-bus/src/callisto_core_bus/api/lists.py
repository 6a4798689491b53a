"""/api/v1/agents and /api/v1/calls: the current lists as core-bus broadcasts them."""

from __future__ import annotations

from fastapi import APIRouter

from callisto_core_bus.suite import Suite
from callisto_protocol.lists import AgentList, CallList


def router(suite: Suite) -> APIRouter:
    api = APIRouter(prefix="/api/v1", tags=["lists"])

    @api.get("/agents", summary="Every logged-in agent and its state")
    async def agents() -> AgentList:
        return AgentList(seq=suite.agents.seq, agents=suite.agents.entries())

    @api.get("/calls", summary="Every call in progress")
    async def calls() -> CallList:
        return CallList(seq=suite.calls.seq, calls=suite.calls.entries())

    return api

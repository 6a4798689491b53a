"""Help requests: operators raise and cancel their own (/api/v1/agents/{id}/help), supervisors see,
accept and close them (/api/v1/help)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from pydantic import BaseModel, ConfigDict, Field

from callisto_protocol.help import HelpRequest
from callisto_protocol.ids import TOKEN_PATTERN
from callisto_queue_manager.engine import Engine
from callisto_runtime import Service
from callisto_runtime.problems import responses
from callisto_runtime.tokens import Claims

Token = Annotated[str, Path(pattern=TOKEN_PATTERN)]


class Raise(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=1, max_length=200)
    call_id: str | None = Field(default=None, pattern=TOKEN_PATTERN)


class Accept(BaseModel):
    model_config = ConfigDict(extra="forbid")

    supervisor_id: str = Field(pattern=TOKEN_PATTERN, description="the supervisor's agent id")


class Close(BaseModel):
    model_config = ConfigDict(extra="forbid")

    note: str = Field(default="", max_length=500)


def router(service: Service, engine: Engine) -> APIRouter:
    api = APIRouter(prefix="/api/v1", tags=["help"])
    may_ask = service.require("qm.agents.{agent_id}.help")
    may_read = service.require("qm.help.read")
    may_handle = service.require("qm.help.handle")

    @api.get("/help", summary="Open and accepted help requests, oldest first")
    async def requests(claims: Claims = may_read) -> list[HelpRequest]:
        found = sorted(engine.acd.help.requests.values(), key=lambda h: h.raised_at)
        return [h.view() for h in found]

    @api.post(
        "/agents/{agent_id}/help", status_code=201, summary="Ask for a supervisor", responses=responses(409)
    )
    async def raise_help(agent_id: Token, body: Raise, claims: Claims = may_ask) -> HelpRequest:
        return await engine.run(
            lambda acd, now: acd.raise_help(agent_id, body.reason, body.call_id, now).view()
        )

    @api.delete(
        "/agents/{agent_id}/help/{request_id}", summary="Withdraw one's request", responses=responses(409)
    )
    async def cancel(agent_id: Token, request_id: Token, claims: Claims = may_ask) -> HelpRequest:
        return await engine.run(lambda acd, now: acd.help.cancel(request_id, agent_id, now).view())

    @api.post(
        "/help/{request_id}/accept",
        summary="Take a request",
        responses={409: {"description": "another supervisor took it first"}},
    )
    async def accept(request_id: Token, body: Accept, claims: Claims = may_handle) -> HelpRequest:
        return await engine.run(lambda acd, now: acd.help.accept(request_id, body.supervisor_id, now).view())

    @api.post("/help/{request_id}/close", summary="Mark a request done", responses=responses(409))
    async def close(request_id: Token, body: Close, claims: Claims = may_handle) -> HelpRequest:
        return await engine.run(lambda acd, now: acd.help.close(request_id, body.note, now).view())

    return api

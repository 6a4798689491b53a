"""/api/v1/campaigns/{id}/attempts: every attempt with the rules the policy checked (the compliance
log), in the order they were planned; /api/v1/attempts/{id}/preview: the agent's choice on a preview's
card; /api/v1/attempts/{id}/disposition: what the agent recorded of the conversation (the operator
whose agent took the call, or a supervisor)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, Field

from callisto_dialer.dispositions import Disposition, DispositionIn
from callisto_dialer.hopper import Hopper
from callisto_dialer.runner import Runner
from callisto_dialer.store import DialerStore
from callisto_protocol.ids import TOKEN_PATTERN
from callisto_runtime import NotFound, Service
from callisto_runtime.problems import responses
from callisto_runtime.tokens import Claims, PermissionDenied


class PreviewChoice(BaseModel):
    action: Literal["dial", "skip"]


class AttemptEntry(BaseModel):
    id: str
    external_id: str
    number: str
    policy: str
    checked: list[str] = Field(description="every rule looked at before it was dialled, with its outcome")
    state: Literal["planned", "dialling", "ended"]
    outcome: str | None
    call_id: str | None
    planned_at: datetime
    dialled_at: datetime | None
    answered_at: datetime | None = Field(description="the customer answered (reached the campaign's queue)")
    connected_at: datetime | None = Field(description="an agent took the call")
    agent_id: str | None
    ended_at: datetime | None
    disposition: str | None = Field(description="the code the agent recorded")


def router(service: Service, store: DialerStore, hopper: Hopper, runner: Runner) -> APIRouter:
    api = APIRouter(prefix="/api/v1", tags=["attempts"])
    signed_in = service.authenticated()

    @api.get(
        "/campaigns/{campaign_id}/attempts",
        summary="The compliance log: every attempt",
        responses=responses(404),
    )
    async def attempts(
        campaign_id: Annotated[str, Path(pattern=TOKEN_PATTERN)],
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
        offset: Annotated[int, Query(ge=0)] = 0,
        _: Claims = service.require("dialer.campaigns.read"),
    ) -> list[AttemptEntry]:
        await store.campaign(campaign_id)
        return [AttemptEntry.model_validate(row) for row in await hopper.attempts(campaign_id, limit, offset)]

    def agents_own(claims: Claims, attempt: dict[str, Any], anyone: str, own: str) -> None:
        """The agent's own (``dialer.agents.<agent>.<own>``) or anyone's with ``anyone``."""
        agent = attempt["agent_id"]
        if claims.can(anyone):
            return
        if agent and claims.agent_id == agent and claims.can(f"dialer.agents.{agent}.{own}"):
            return
        raise PermissionDenied(
            f"this is for the agent who took the call ({own})", {"attempt_id": attempt["id"]}
        )

    @api.post(
        "/attempts/{attempt_id}/preview",
        status_code=204,
        summary="A preview's card read: dial it (the agent's phone first, then the customer's) or skip it",
        responses=responses(403, 404, 409),
    )
    async def preview(
        attempt_id: Annotated[str, Path(pattern=TOKEN_PATTERN)],
        body: PreviewChoice,
        claims: Claims = signed_in,
    ) -> None:
        attempt = await hopper.attempt(attempt_id)
        if attempt is None:
            raise NotFound(f"no attempt {attempt_id!r}", {"attempt_id": attempt_id})
        agents_own(claims, attempt, "dialer.preview.manage", "preview")
        await runner.decide_preview(attempt, body.action == "dial", datetime.now(UTC))

    @api.post(
        "/attempts/{attempt_id}/disposition",
        status_code=201,
        summary="Record what came of the conversation: a promise, a payment, a call-back, do not call …",
        responses=responses(403, 404, 409, 422),
    )
    async def dispose(
        attempt_id: Annotated[str, Path(pattern=TOKEN_PATTERN)],
        body: DispositionIn,
        claims: Claims = signed_in,
    ) -> Disposition:
        def may(attempt: dict[str, Any]) -> None:
            agents_own(claims, attempt, "dialer.dispositions.create", "dispositions")

        found = await hopper.dispose(attempt_id, body, claims.subject, may, datetime.now(UTC))
        return Disposition.model_validate(found)

    return api

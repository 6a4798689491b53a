"""/api/v1/notifications: the notifications given up (with the reason), and sending one again once
its cause is fixed."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel

from callisto_helpdesk.mailer import Mailer
from callisto_runtime import NotFound, Service
from callisto_runtime.tokens import Claims


class DeadNotification(BaseModel):
    id: int
    ticket_id: str
    recipient: str
    email: str | None
    title: str
    attempts: int
    last_error: str | None
    dead_at: datetime


class Retried(BaseModel):
    id: int
    queued: bool


def router(service: Service, mailer: Mailer) -> APIRouter:
    api = APIRouter(prefix="/api/v1/notifications", tags=["notifications"])
    may_manage = service.require("helpdesk.notifications.manage")

    @api.get("/dead", summary="Notifications given up, newest first, with the reason")
    async def dead(
        limit: Annotated[int, Query(ge=1, le=1000)] = 100, claims: Claims = may_manage
    ) -> list[DeadNotification]:
        return [DeadNotification.model_validate(row) for row in await mailer.dead(limit)]

    @api.post("/{notification_id}/retry", summary="Send a given-up notification again")
    async def retry(
        notification_id: Annotated[int, Path(ge=1, le=2**62)], claims: Claims = may_manage
    ) -> Retried:
        if not await mailer.retry(notification_id):
            raise NotFound(
                f"no given-up notification {notification_id}", {"notification_id": notification_id}
            )
        return Retried(id=notification_id, queued=True)

    return api

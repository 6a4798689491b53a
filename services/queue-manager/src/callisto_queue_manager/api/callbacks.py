"""/api/v1/callbacks: callbacks waiting or scheduled, leaving one (a web form, an integration) and
cancelling one."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from callisto_protocol.ids import TOKEN_PATTERN
from callisto_protocol.queues import CallbackAccepted, RequestCallback
from callisto_queue_manager.acd import Acd
from callisto_queue_manager.api.views import CallbackView
from callisto_queue_manager.engine import Engine
from callisto_queue_manager.handlers import request_callback
from callisto_queue_manager.model import Call, CallStatus
from callisto_runtime import Service
from callisto_runtime.tokens import Claims

CallbackPath = Annotated[str, Path(pattern=TOKEN_PATTERN, description="callback id")]


def view(acd: Acd, call: Call) -> CallbackView:
    callback = call.callback
    assert callback is not None
    waiting = call.status is CallStatus.WAITING
    return CallbackView(
        callback_id=call.call_id,
        queue_id=call.queue_id,
        number=callback.number,
        name=callback.name,
        status=call.status.value,
        priority=call.priority,
        position=acd.position(call) if waiting else None,
        due=callback.due,
        not_after=callback.not_after,
        tried=callback.tried,
        attempts=callback.attempts,
        agent_id=call.answered_by or next(iter(call.offered_to), None),
        replaced_call_id=callback.replaced,
        requested_at=call.entered_at,
    )


def router(service: Service, engine: Engine) -> APIRouter:
    api = APIRouter(prefix="/api/v1/callbacks", tags=["callbacks"])
    may_read = service.require("qm.queues.read")
    may_create = service.require("qm.callbacks.create")
    may_cancel = service.require("qm.callbacks.cancel")

    @api.get("", summary="Callbacks waiting, scheduled or under way, in order of service per queue")
    async def callbacks(claims: Claims = may_read) -> list[CallbackView]:
        acd = engine.acd
        found = [c for c in acd.calls.values() if c.callback is not None]
        return [view(acd, c) for c in sorted(found, key=lambda c: (c.queue_id, c.order, c.seq))]

    @api.post(
        "",
        status_code=201,
        summary="Leave a callback (the agent's phone rings first, then the number)",
        responses={422: {"description": "the window is over or ends before it starts"}},
    )
    async def create(body: RequestCallback, claims: Claims = may_create) -> CallbackAccepted:
        return await engine.run(lambda acd, now: request_callback(acd, body, now))

    @api.delete("/{callback_id}", summary="Cancel a callback (a ringing agent's phone stops)")
    async def cancel(callback_id: CallbackPath, claims: Claims = may_cancel) -> CallbackView:
        def operation(acd: Acd, now: float) -> CallbackView:
            shown = view(acd, acd.call(callback_id))
            acd.dequeue(callback_id, "cancelled", now)
            return shown.model_copy(update={"status": "cancelled", "position": None})

        return await engine.run(operation)

    return api

"""/api/v1/queues: queue definitions, their live statistics and waiting calls."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response

from callisto_protocol.ids import TOKEN_PATTERN
from callisto_queue_manager.acd import Acd
from callisto_queue_manager.api.views import QueueStats, WaitingCall
from callisto_queue_manager.engine import Engine
from callisto_queue_manager.model import CallStatus, QueueConfig
from callisto_queue_manager.queues_document import QueuesDocument
from callisto_runtime import BadRequest, Service
from callisto_runtime.problems import responses
from callisto_runtime.tokens import Claims

QueuePath = Annotated[str, Path(pattern=TOKEN_PATTERN, description="queue id")]


def router(service: Service, engine: Engine, document: QueuesDocument) -> APIRouter:
    api = APIRouter(prefix="/api/v1/queues", tags=["queues"])
    may_read = service.require("qm.queues.read")
    may_update = service.require("qm.queues.update")

    @api.get("", summary="Every queue's definition")
    async def queues(claims: Claims = may_read) -> list[QueueConfig]:
        return sorted(engine.acd.queues.values(), key=lambda q: q.id)

    @api.put(
        "/{queue_id}",
        summary="Create or change a queue (waiting calls keep their place)",
        responses=responses(400, 409, 422),
    )
    async def put(queue_id: QueuePath, body: QueueConfig, claims: Claims = may_update) -> QueueConfig:
        if body.id != queue_id:
            raise BadRequest("the body's id differs from the path's", {"queue_id": queue_id, "id": body.id})
        await engine.run(lambda acd, now: acd.check_overflow(body))  # refused before it is stored
        await document.change(
            lambda queues: [*(q for q in queues if q.id != queue_id), body], claims.login or claims.subject,
            f"queue {queue_id} set through the queue API",
        )  # fmt: skip
        return body

    @api.delete(
        "/{queue_id}", status_code=204, summary="Remove a queue no call waits in and no queue overflows to",
        responses=responses(409),
    )
    async def delete(queue_id: QueuePath, claims: Claims = may_update) -> Response:
        await engine.run(lambda acd, now: acd.check_removable(queue_id))  # refused while calls wait in it
        await document.change(
            lambda queues: [q for q in queues if q.id != queue_id], claims.login or claims.subject,
            f"queue {queue_id} removed through the queue API",
        )  # fmt: skip
        return Response(status_code=204)

    @api.get("/{queue_id}/stats", summary="Waiting calls, agents by state, expected wait (now)")
    async def stats(queue_id: QueuePath, claims: Claims = may_read) -> QueueStats:
        return QueueStats.model_validate(await engine.run(lambda acd, now: acd.stats(queue_id, now)))

    @api.get("/{queue_id}/calls", summary="Calls in the queue in order of service, with position and wait")
    async def calls(queue_id: QueuePath, claims: Claims = may_read) -> list[WaitingCall]:
        def listing(acd: Acd, now: float) -> list[WaitingCall]:
            acd.stats(queue_id, now)  # UnknownQueue for an unknown id
            found = sorted(
                (
                    c
                    for c in acd.calls.values()
                    if c.queue_id == queue_id and c.status is not CallStatus.CONNECTED
                ),
                key=lambda c: (c.status is CallStatus.WAITING, c.order, c.seq),
            )
            return [
                WaitingCall(
                    call_id=c.call_id,
                    caller=c.caller,
                    priority=c.priority,
                    status=c.status.value,
                    position=acd.position(c),
                    waited_s=round(c.waited(now), 1),
                    offered_to=sorted(c.offered_to),
                    personal_agent_id=c.personal_agent_id,
                )
                for c in found
            ]

        return await engine.run(listing)

    return api

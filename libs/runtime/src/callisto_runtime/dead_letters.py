"""The dead letters of one service, for an administrator: list them, replay one once its cause is
fixed (removed when its consumer handled it), or discard one. Every service skeleton serves these
routes under ``/api/v1/dead-letters`` with the permission ``<service>.dead-letters.manage``."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Annotated, Any

import nats.errors
import nats.js.errors
from fastapi import APIRouter, Path, Query
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from pydantic import BaseModel

from callisto_protocol import ProtocolError
from callisto_protocol.deadletters import DeadLetter
from callisto_protocol.streams import DEAD_LETTERS_STREAM
from callisto_runtime.bus import Bus
from callisto_runtime.errors import CallistoError, Conflict, NotFound
from callisto_runtime.problems import responses
from callisto_runtime.tokens import Claims

log = logging.getLogger(__name__)
MAX_LISTED = 1000


class DeadLetterView(BaseModel):
    sequence: int
    consumer: str
    original_subject: str
    original_type: str
    message_id: str
    reason: str
    cause: str
    deliveries: int
    failed_at: datetime
    body: str  # the body as text (bytes that are not UTF-8 replaced)

    @classmethod
    def of(cls, sequence: int, letter: DeadLetter) -> DeadLetterView:
        return cls(
            sequence=sequence,
            body=letter.body().decode(errors="replace"),
            **letter.model_dump(include={"consumer", "original_subject", "original_type", "message_id",
                                         "reason", "cause", "deliveries", "failed_at"}),
        )  # fmt: skip


class ReplayResult(BaseModel):
    sequence: int
    consumer: str
    replayed: bool
    removed: bool


class DeadLetterGone(BaseModel):
    sequence: int
    removed: bool


class DeadLetterStore:
    """Reads and removes this service's records of ``CC_DEAD_LETTERS``."""

    def __init__(self, bus: Bus) -> None:
        self.bus = bus

    @property
    def _js(self) -> Any:
        return self.bus.nc.jetstream()

    async def list(self, limit: int) -> list[DeadLetterView]:
        found: list[DeadLetterView] = []
        try:
            sub = await self._js.pull_subscribe(
                f"cc.dead.{self.bus.service}.>",
                stream=DEAD_LETTERS_STREAM,
                config=ConsumerConfig(
                    ack_policy=AckPolicy.NONE, deliver_policy=DeliverPolicy.ALL, inactive_threshold=30.0
                ),
            )
        except nats.js.errors.NotFoundError:
            return []
        try:
            while len(found) < limit:
                try:
                    msgs = await sub.fetch(min(100, limit - len(found)), timeout=0.5)
                except TimeoutError:  # nothing (more) to read; nats-py raises the built-in one here
                    break
                for msg in msgs:
                    try:
                        letter = DeadLetter.decode(msg.data)
                        found.append(DeadLetterView.of(msg.metadata.sequence.stream, letter))
                    except ProtocolError:
                        log.warning("dead letter %d is not readable", msg.metadata.sequence.stream)
                if msgs and msgs[-1].metadata.num_pending == 0:
                    break
        finally:
            await sub.unsubscribe()
        return found

    async def get(self, sequence: int) -> DeadLetter:
        try:
            raw = await self._js.get_msg(DEAD_LETTERS_STREAM, sequence)
        except nats.js.errors.NotFoundError:
            raise NotFound(f"no dead letter {sequence}", {"sequence": sequence}) from None
        letter = DeadLetter.decode(raw.data or b"")
        if letter.service != self.bus.service:
            raise NotFound(f"dead letter {sequence} is not {self.bus.service}'s", {"sequence": sequence})
        return letter

    async def remove(self, sequence: int) -> bool:
        try:
            return bool(await self._js.delete_msg(DEAD_LETTERS_STREAM, sequence))
        except nats.js.errors.NotFoundError:
            return False

    async def replay(self, sequence: int) -> ReplayResult:
        letter = await self.get(sequence)
        consumer = self.bus.consumers.get(letter.consumer)
        if consumer is None:
            raise NotFound(f"this service has no consumer {letter.consumer}", {"consumer": letter.consumer})
        try:
            await consumer.replay(letter)
        except Exception as exc:
            reason = exc.message if isinstance(exc, CallistoError) else f"{type(exc).__name__}: {exc}"
            raise ReplayFailed(f"the replay failed: {reason}", {"sequence": sequence}) from None
        log.info("dead letter %d of %s replayed", sequence, letter.consumer)
        removed = await self.remove(sequence)
        return ReplayResult(sequence=sequence, consumer=letter.consumer, replayed=True, removed=removed)


class ReplayFailed(Conflict):
    error_id = "replay-failed"


Sequence = Annotated[int, Path(ge=1, le=2**53, description="the dead letter's sequence in CC_DEAD_LETTERS")]


def router(store: DeadLetterStore, may_manage: Any) -> APIRouter:
    api = APIRouter(prefix="/api/v1/dead-letters", tags=["operations"])

    @api.get("", summary="Events this service gave up on, with the reason")
    async def listed(
        limit: Annotated[int, Query(ge=1, le=MAX_LISTED)] = 100, claims: Claims = may_manage
    ) -> list[DeadLetterView]:
        return await store.list(limit)

    @api.post(
        "/{sequence}/replay",
        summary="Handle a dead letter again; removed when it succeeds",
        responses=responses(409),
    )
    async def replay(sequence: Sequence, claims: Claims = may_manage) -> ReplayResult:
        return await store.replay(sequence)

    @api.delete("/{sequence}", summary="Discard a dead letter")
    async def discard(sequence: Sequence, claims: Claims = may_manage) -> DeadLetterGone:
        await store.get(sequence)
        log.warning("dead letter %d discarded by %s", sequence, claims.subject)
        return DeadLetterGone(sequence=sequence, removed=await store.remove(sequence))

    return api

"""The queues as a configuration document (``queue-manager.queues`` in the configuration store).

The document holds every queue's definition (skills, strategy, targets, dispositions). Seeded from the
configuration file at first start, changed through core-bus's configuration API or through this
service's own queue routes (``PUT``/``DELETE /api/v1/queues/{id}`` write the document, compare-and-set,
and answer once it is applied). The active instance applies each version to the ACD: queues in it are
created or changed (waiting calls keep their place, the next routing decision follows the new
strategy), queues no longer in it are removed unless calls wait in them (then kept, and logged). A
standby keeps the newest version and applies it when it becomes active. Agents' profiles stay with the
agents API (supervisors change skills as the day goes)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import nats.js.errors
from pydantic import BaseModel, ConfigDict, ValidationError, model_validator

from callisto_protocol.configuration import CONFIG_BUCKET, CONFIG_HISTORY, ConfigVersion, document_key
from callisto_queue_manager.acd import Acd
from callisto_queue_manager.engine import Engine
from callisto_queue_manager.errors import OverflowCycle, QueueInUse, QueuesInconsistent
from callisto_queue_manager.model import QueueConfig
from callisto_runtime import Conflict, Service
from callisto_runtime.configuration import reason_of
from callisto_runtime.kv import ensure_bucket

log = logging.getLogger(__name__)
KEY = document_key("queue-manager", "queues")
APPLIED_WITHIN_S = 5.0


def setting(queue: QueueConfig) -> Callable[[Acd, float], None]:
    return lambda acd, now: acd.set_queue(queue, now)


def removing(queue_id: str) -> Callable[[Acd, float], None]:
    return lambda acd, now: acd.remove_queue(queue_id)


class Queues(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    queues: list[QueueConfig] = []

    @model_validator(mode="after")
    def _consistent(self) -> Queues:
        ids = [q.id for q in self.queues]
        doubled = sorted({i for i in ids if ids.count(i) > 1})
        if doubled:
            raise ValueError(f"queues defined twice: {doubled}")
        for queue in self.queues:
            target = queue.overflow_target
            if target is not None and target.startswith("queue:") and target[6:] not in ids:
                raise ValueError(f"queue {queue.id!r} overflows to the unknown queue {target[6:]!r}")
        return self

    def summary(self) -> str:
        return f"{len(self.queues)} queues: " + ", ".join(f"{q.id} ({q.strategy})" for q in self.queues)


class QueuesDocument:
    def __init__(self, service: Service, engine: Engine, seed: Callable[[], dict[str, Any]]) -> None:
        self.service = service
        self.engine = engine
        self.current: Queues | None = None
        self.version = 0
        self._changed = asyncio.Condition()
        service.configuration.own("queues", Queues.model_validate, self.apply, seed, summary=Queues.summary)

    async def apply(self, queues: Queues, version: int) -> None:
        self.current, self.version = queues, version
        if self.service.is_active and self.engine.loaded:
            await self.reconcile()
        async with self._changed:
            self._changed.notify_all()

    async def reconcile(self) -> None:
        """Make the ACD (and Redis) hold exactly the document's queues, as far as waiting calls allow."""
        if self.current is None:
            return
        wanted = {q.id: q for q in self.current.queues}
        pending = [q for q in wanted.values() if self.engine.acd.queues.get(q.id) != q]  # changed or new
        while pending:  # a queue overflowing to another is set after it
            ready = [q for q in pending if self._ready_to_set(q, wanted)] or pending[:1]
            for queue in ready:
                try:
                    await self.engine.run(setting(queue))
                except OverflowCycle as exc:
                    log.error("queue %s not changed: %s", queue.id, exc)
                    continue
                await self.engine.store.save_queue(queue)
            pending = [q for q in pending if q not in ready]
        for queue_id in sorted(set(self.engine.acd.queues) - set(wanted)):
            try:
                await self.engine.run(removing(queue_id))
            except QueueInUse:
                log.warning("queue %s is no longer configured but calls wait in it: kept", queue_id)
                continue
            await self.engine.store.delete_queue(queue_id)

    def _ready_to_set(self, queue: QueueConfig, wanted: dict[str, QueueConfig]) -> bool:
        target = queue.overflow_target
        if not target or not target.startswith("queue:"):
            return True
        return target[6:] in self.engine.acd.queues or target[6:] not in wanted

    async def change(
        self, edit: Callable[[list[QueueConfig]], list[QueueConfig]], by: str, comment: str
    ) -> None:
        """Write a new version made by ``edit`` (compare-and-set, again if someone else wrote first) and
        return once this instance applied it."""
        kv = await ensure_bucket(self.service.bus.nc, CONFIG_BUCKET, history=CONFIG_HISTORY)
        for _ in range(10):
            entry = await kv.get(KEY)
            assert entry.value is not None
            stored = ConfigVersion.model_validate_json(entry.value)
            queues = Queues.model_validate(stored.body)
            try:
                new = Queues(queues=edit(list(queues.queues)))
            except ValidationError as exc:  # e.g. a queue removed that another overflows to
                raise QueuesInconsistent(reason_of(exc), {"document": KEY}) from exc
            body = new.model_dump(mode="json", exclude_defaults=True)
            value = ConfigVersion(body=body, by=by, at=datetime.now(UTC), comment=comment)
            try:
                version = int(await kv.update(KEY, value.model_dump_json().encode(), last=entry.revision))
                break
            except nats.js.errors.KeyWrongLastSequenceError:
                continue
        else:
            raise Conflict("the queues document keeps changing under this request: try again")
        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(lambda: self.version >= version), APPLIED_WITHIN_S)

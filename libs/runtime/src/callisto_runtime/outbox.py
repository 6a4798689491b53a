"""A bounded outbox for events kept by JetStream.

Events are accepted into memory at once and published with acknowledgement, in order, pipelined in
batches. A batch that is not acknowledged (NATS down, stream missing, timeout) is sent again after
a pause; the server drops duplicates by ``Nats-Msg-Id`` inside the stream's duplicate window, so a
resend never duplicates an event. When the outbox is full the new event is refused and counted.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections import deque
from dataclasses import dataclass
from typing import Any

from callisto_runtime.errors import PublishBufferFull
from callisto_runtime.metrics import BusMetrics

log = logging.getLogger(__name__)

BATCH = 256
ACK_TIMEOUT_S = 5.0
RETRY_PAUSE_S = 0.2


@dataclass(frozen=True, slots=True)
class Pending:
    subject: str
    body: bytes
    headers: dict[str, str]


class Outbox:
    def __init__(self, limit: int, metrics: BusMetrics) -> None:
        self._limit = limit
        self._metrics = metrics
        self._items: deque[Pending] = deque()
        self._wake = asyncio.Event()
        self._empty = asyncio.Event()
        self._empty.set()

    def __len__(self) -> int:
        return len(self._items)

    def put(self, item: Pending) -> None:
        if len(self._items) >= self._limit:
            self._metrics.publish_dropped.labels(reason="outbox-full").inc()
            raise PublishBufferFull(
                f"outbox holds {self._limit} unacknowledged events", {"subject": item.subject}
            )
        self._items.append(item)
        self._metrics.outbox_pending.set(len(self._items))
        self._empty.clear()
        self._wake.set()

    async def wait_empty(self, timeout: float) -> bool:
        try:
            await asyncio.wait_for(self._empty.wait(), timeout)
        except TimeoutError:
            return False
        return True

    async def run(self, js: Any, is_connected: Any) -> None:
        """Publish forever; ``js`` is a nats JetStreamContext, ``is_connected`` a callable."""
        while True:
            if not self._items:
                self._empty.set()
                self._wake.clear()
                await self._wake.wait()
                continue
            if not is_connected():
                await asyncio.sleep(RETRY_PAUSE_S / 4)
                continue
            batch = list(itertools.islice(self._items, BATCH))
            acked = await self._send(js, batch)
            for _ in range(acked):
                self._items.popleft()
            self._metrics.outbox_pending.set(len(self._items))
            if acked:
                self._metrics.published.labels(mode="stream").inc(acked)
            if acked < len(batch):
                await asyncio.sleep(RETRY_PAUSE_S)

    async def _send(self, js: Any, batch: list[Pending]) -> int:
        """Send a batch; return how many leading items the server acknowledged."""
        futures: list[asyncio.Future[Any]] = []
        try:
            for item in batch:
                futures.append(
                    await js.publish_async(
                        item.subject, item.body, headers=dict(item.headers), wait_stall=ACK_TIMEOUT_S
                    )
                )
        except Exception as exc:  # not connected, stalled: keep what was sent, retry the rest
            log.debug("outbox send interrupted: %r", exc)
        if not futures:
            return 0
        done, not_done = await asyncio.wait(futures, timeout=ACK_TIMEOUT_S)
        for future in not_done:
            future.cancel()
        acked = 0
        for future in futures:
            if future in done and not future.cancelled() and future.exception() is None:
                acked += 1
            else:
                break
        if acked < len(batch):
            failure = next((f for f in futures[acked:] if f in done and not f.cancelled()), None)
            log.warning(
                "outbox: %d of %d events acknowledged; retrying (%r)",
                acked,
                len(batch),
                failure.exception() if failure else "timeout",
            )
        return acked

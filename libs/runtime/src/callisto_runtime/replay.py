"""Read ``CC_EVENTS`` from a point in time, then follow it live, without a durable consumer.

For state that is cheaper to rebuild than to store (its handler must tolerate an event seen twice,
as after a stream that was lost and made anew is read again): the reader keeps the stream sequence of the last
message it handled and, after every reconnection, carries on from the next one, so nothing is
skipped and nothing is read twice while the process lives. ``caught_up`` is set once the messages
that were in the stream at the start have all been handled.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from nats.aio.msg import Msg
from nats.js.api import ConsumerConfig, DeliverPolicy

from callisto_protocol import Envelope, Event, ProtocolError, message_class
from callisto_protocol.envelope import MESSAGE_TYPE
from callisto_protocol.streams import EVENTS_STREAM
from callisto_runtime.bus import Bus

log = logging.getLogger(__name__)

ReplayHandler = Callable[[Event, Envelope], Awaitable[None] | None]


class StreamReplay:
    def __init__(
        self,
        bus: Bus,
        subject: str,
        handler: ReplayHandler,
        *,
        since: datetime | None = None,
        last_per_subject: bool = False,
    ) -> None:
        self.bus = bus
        self.subject = subject
        self.handler = handler
        self.since = since
        self.last_per_subject = last_per_subject
        self.last_seq = 0
        self.handled = 0
        self.malformed = 0
        self.caught_up = asyncio.Event()
        self._sub: Any = None
        self._lock = asyncio.Lock()

    async def start(self) -> None:
        self.bus.on_connect(self._resubscribe)
        if self.bus.connected:
            await self._resubscribe()

    async def stop(self) -> None:
        await self._unsubscribe()

    def _config(self) -> ConsumerConfig:
        if self.last_seq:
            return ConsumerConfig(
                deliver_policy=DeliverPolicy.BY_START_SEQUENCE, opt_start_seq=self.last_seq + 1
            )
        if self.last_per_subject:
            return ConsumerConfig(deliver_policy=DeliverPolicy.LAST_PER_SUBJECT)
        if self.since is not None:
            return ConsumerConfig(deliver_policy=DeliverPolicy.BY_START_TIME, opt_start_time=self.since)
        return ConsumerConfig(deliver_policy=DeliverPolicy.ALL)

    async def _unsubscribe(self) -> None:
        if self._sub is not None:
            try:
                await self._sub.unsubscribe()
            except Exception as exc:
                log.debug("replay %s: unsubscribe: %r", self.subject, exc)
            self._sub = None

    async def _resubscribe(self) -> None:
        async with self._lock:
            await self._unsubscribe()
            js = self.bus.nc.jetstream()
            config = self._config()
            info = await js.stream_info(EVENTS_STREAM)
            if info.state.last_seq < self.last_seq:  # the stream was lost and made anew: read it again
                log.warning(
                    "replay %s: the stream restarted below seq %d; reading it again",
                    self.subject,
                    self.last_seq,
                )
                self.last_seq = 0
            if info.state.messages == 0 or info.state.last_seq <= self.last_seq:
                self.caught_up.set()
            self._sub = await js.subscribe(
                self.subject,
                cb=self._deliver,
                ordered_consumer=True,
                stream=EVENTS_STREAM,
                deliver_policy=config.deliver_policy,
                config=config,
                idle_heartbeat=2.0,
                pending_msgs_limit=1_000_000,
            )
            if not self.caught_up.is_set():
                asyncio.get_running_loop().call_later(0.5, self._check_idle, self.handled)

    def _check_idle(self, seen: int) -> None:
        """A filter that matches nothing delivers nothing: nothing arriving means caught up."""
        if not self.caught_up.is_set() and self.handled == seen:
            self.caught_up.set()
        elif not self.caught_up.is_set():
            asyncio.get_running_loop().call_later(0.5, self._check_idle, self.handled)

    async def _deliver(self, msg: Msg) -> None:
        meta = msg.metadata
        if meta.sequence.stream <= self.last_seq:
            return
        self.last_seq = meta.sequence.stream
        try:
            env = Envelope.from_headers(msg.headers)
            event = message_class(env.message_type).decode(msg.data)
            if not isinstance(event, Event):
                raise TypeError(f"{env.message_type} is not an event")
        except (ProtocolError, TypeError) as exc:
            self.malformed += 1
            error_id = exc.error_id if isinstance(exc, ProtocolError) else "not-an-event"
            self.bus.metrics.rejected.labels(
                message_type=(msg.headers or {}).get(MESSAGE_TYPE, "?"), error_id=error_id
            ).inc()
            log.warning("replay %s: dropped a malformed message on %s", self.subject, msg.subject)
        else:
            try:
                done = self.handler(event, env)
                if done is not None:
                    await done
            except Exception:
                self.bus.metrics.handler_errors.labels(message_type=event.message_type).inc()
                log.exception("replay %s: handler failed on %s", self.subject, msg.subject)
            self.handled += 1
        if meta.num_pending == 0:
            self.caught_up.set()

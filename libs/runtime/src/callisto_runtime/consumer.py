"""Durable JetStream consumers of ``CC_EVENTS`` with explicit acknowledgement.

A message is acknowledged only after the handler returns, so work that was not stored is delivered
again after a restart or a failure. A malformed message is counted and terminated (never
redelivered); a handler error asks for redelivery after ``retry_delay_s``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import nats.errors
import nats.js.errors
from nats.aio.msg import Msg
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

from callisto_protocol import Envelope, Event, ProtocolError, message_class
from callisto_protocol.envelope import MESSAGE_TYPE
from callisto_protocol.streams import EVENTS_STREAM
from callisto_runtime.bus import Bus

log = logging.getLogger(__name__)

AnyEventHandler = Callable[[Event, Envelope], Awaitable[None]]
BatchHandler = Callable[[list[tuple[Event, Envelope]]], Awaitable[None]]


class DurableConsumer:
    def __init__(
        self,
        bus: Bus,
        durable: str,
        subject_filter: str,
        handler: AnyEventHandler | None = None,
        *,
        batch_handler: BatchHandler | None = None,
        batch: int = 100,
        ack_wait_s: float = 30.0,
        retry_delay_s: float = 1.0,
        deliver_new_only: bool = False,
    ) -> None:
        self.bus = bus
        self.durable = durable
        self.subject_filter = subject_filter
        if (handler is None) == (batch_handler is None):
            raise ValueError("a consumer takes either a handler or a batch handler")
        self.handler = handler
        self.batch_handler = batch_handler
        self.batch = batch
        self.ack_wait_s = ack_wait_s
        self.retry_delay_s = retry_delay_s
        self.deliver_policy = DeliverPolicy.NEW if deliver_new_only else DeliverPolicy.ALL
        self._task: asyncio.Task[None] | None = None
        self._sub: Any = None
        self.handled = 0

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name=f"consumer-{self.durable}")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        if self._sub is not None:
            try:
                await self._sub.unsubscribe()
            except Exception as exc:
                log.debug("consumer %s: unsubscribe: %r", self.durable, exc)
            self._sub = None

    async def _run(self) -> None:
        await self.bus.wait_connected()
        js = self.bus.nc.jetstream()
        while True:
            try:
                if self._sub is None:
                    self._sub = await js.pull_subscribe(
                        self.subject_filter,
                        durable=self.durable,
                        stream=EVENTS_STREAM,
                        config=ConsumerConfig(
                            ack_policy=AckPolicy.EXPLICIT,
                            ack_wait=self.ack_wait_s,
                            deliver_policy=self.deliver_policy,
                            max_ack_pending=self.batch * 10,
                        ),
                    )
                msgs = await self._sub.fetch(self.batch, timeout=1.0)
            except nats.errors.TimeoutError:
                continue
            except (nats.errors.Error, nats.js.errors.Error, OSError) as exc:
                log.debug("consumer %s: %r; retrying", self.durable, exc)
                if isinstance(exc, nats.js.errors.NotFoundError):
                    self._sub = None
                await asyncio.sleep(0.5)
                continue
            if self.batch_handler is not None:
                await self._handle_batch(msgs)
            else:
                for msg in msgs:
                    await self._handle(msg)

    async def _decode(self, msg: Msg) -> tuple[Event, Envelope] | None:
        """The message's event, or None for a malformed one (counted and terminated)."""
        metrics = self.bus.metrics
        try:
            env = Envelope.from_headers(msg.headers)
            event_type = message_class(env.message_type)
            event = event_type.decode(msg.data)
            if not isinstance(event, Event):
                raise TypeError(f"{env.message_type} is not an event")
        except (ProtocolError, TypeError) as exc:
            error_id = exc.error_id if isinstance(exc, ProtocolError) else "not-an-event"
            metrics.rejected.labels(
                message_type=(msg.headers or {}).get(MESSAGE_TYPE, "?"), error_id=error_id
            ).inc()
            log.warning("consumer %s dropped a malformed message on %s", self.durable, msg.subject)
            await _quietly(msg.term())
            return None
        metrics.received.labels(message_type=event.message_type).inc()
        return event, env

    async def _handle(self, msg: Msg) -> None:
        decoded = await self._decode(msg)
        if decoded is None:
            return
        event, env = decoded
        assert self.handler is not None
        try:
            await self.handler(event, env)
        except Exception:
            self.bus.metrics.handler_errors.labels(message_type=event.message_type).inc()
            log.exception(
                "consumer %s: handler failed; redelivery in %.1f s", self.durable, self.retry_delay_s
            )
            await _quietly(msg.nak(delay=self.retry_delay_s))
            return
        await _quietly(msg.ack())
        self.handled += 1

    async def _handle_batch(self, msgs: list[Msg]) -> None:
        """One call of the batch handler for every well-formed message fetched together; all are
        acknowledged after it returns, or all delivered again after ``retry_delay_s``."""
        assert self.batch_handler is not None
        good: list[tuple[Msg, tuple[Event, Envelope]]] = []
        for msg in msgs:
            decoded = await self._decode(msg)
            if decoded is not None:
                good.append((msg, decoded))
        if not good:
            return
        try:
            await self.batch_handler([decoded for _, decoded in good])
        except Exception as exc:
            for _, (event, _env) in good:
                self.bus.metrics.handler_errors.labels(message_type=event.message_type).inc()
            log.warning(
                "consumer %s: a batch of %d failed (%r); redelivery in %.1f s",
                self.durable, len(good), exc, self.retry_delay_s,
            )  # fmt: skip
            await asyncio.gather(*(_quietly(msg.nak(delay=self.retry_delay_s)) for msg, _ in good))
            await asyncio.sleep(self.retry_delay_s)
            return
        await asyncio.gather(*(_quietly(msg.ack()) for msg, _ in good))
        self.handled += len(good)


async def _quietly(op: Awaitable[None]) -> None:
    try:
        await op
    except Exception as exc:  # the ack is lost with the connection; the server redelivers
        log.debug("ack failed: %r", exc)

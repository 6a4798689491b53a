"""Durable JetStream consumers of ``CC_EVENTS`` with explicit acknowledgement and dead letters.

A message is acknowledged only after the handler returns, so work that was not stored is delivered
again after a restart or a failure. What happens when it is not handled depends on why:

- a *transient* failure (a dependency away, see ``failures.is_transient``) asks for redelivery after
  a pause, without limit: the message is fine, the world is not;
- any other failure is counted for that message; after ``max_failures`` it becomes a dead letter
  (``CC_DEAD_LETTERS``, with the reason) and is terminated, so it never holds up the ones behind it;
- a malformed message, or one whose envelope names an origin other than its subject's publisher,
  is a dead letter at once (trying again cannot help).

A batch handler that fails for a permanent reason is tried again on each half of the batch, down to
single events, so one bad event costs its neighbours a few extra calls and never their storage.
A dead letter is replayed by ``replay`` (an administrator's route in the service skeleton).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import nats.errors
import nats.js.errors
from nats.aio.msg import Msg
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

from callisto_protocol import Envelope, Event, ProtocolError, message_class
from callisto_protocol.deadletters import DeadLetter
from callisto_protocol.envelope import AUTHORIZATION, MESSAGE_ID, MESSAGE_TYPE
from callisto_protocol.streams import EVENTS_STREAM
from callisto_runtime.bus import Bus
from callisto_runtime.errors import CallistoError
from callisto_runtime.failures import is_transient

log = logging.getLogger(__name__)

AnyEventHandler = Callable[[Event, Envelope], Awaitable[None]]
BatchHandler = Callable[[list[tuple[Event, Envelope]]], Awaitable[None]]
_REMEMBERED_FAILURES = 10_000


class Undecodable(CallistoError):
    """A message that cannot become an event: a dead letter at once."""

    status = 422
    error_id = "malformed"

    def __init__(self, message: str, cause: str) -> None:
        super().__init__(message)
        self.cause = cause


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
        retry_delay_s: float | None = None,
        max_failures: int | None = None,
        deliver_new_only: bool = False,
    ) -> None:
        self.bus = bus
        self.durable = durable
        self.subject_filter = subject_filter
        if (handler is None) == (batch_handler is None):
            raise ValueError("a consumer takes either a handler or a batch handler")
        max_failures = bus.consumer_max_failures if max_failures is None else max_failures
        if max_failures < 1:
            raise ValueError("max_failures must be at least 1")
        self.handler = handler
        self.batch_handler = batch_handler
        self.batch = batch
        self.ack_wait_s = ack_wait_s
        self.retry_delay_s = bus.consumer_retry_delay_s if retry_delay_s is None else retry_delay_s
        self.max_failures = max_failures
        self.deliver_policy = DeliverPolicy.NEW if deliver_new_only else DeliverPolicy.ALL
        self._task: asyncio.Task[None] | None = None
        self._sub: Any = None
        self._failures: OrderedDict[int, int] = OrderedDict()  # stream sequence -> permanent failures
        self.handled = 0
        self.dead_lettered = 0
        bus.consumers[durable] = self

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
            try:
                await self._handle_fetched(msgs)
            except asyncio.CancelledError:
                raise
            except Exception:  # never let one fetch end the consumer: its messages come back
                log.exception(
                    "consumer %s: unexpected failure; the batch will be delivered again", self.durable
                )
                await asyncio.sleep(self.retry_delay_s)

    async def _handle_fetched(self, msgs: list[Msg]) -> None:
        if msgs:  # how far behind the stream this consumer is (Prometheus: consumer lag)
            with contextlib.suppress(nats.errors.NotJSMessageError):
                self.bus.metrics.consumer_pending.labels(consumer=self.durable).set(
                    msgs[-1].metadata.num_pending
                )
        good: list[tuple[Msg, tuple[Event, Envelope]]] = []
        for msg in msgs:
            try:
                good.append((msg, self.decode(msg.subject, msg.data, msg.headers)))
            except Undecodable as exc:
                await self._give_up(msg, exc.cause, exc.message)
        if self.batch_handler is not None:
            if good and not await self._handle_batch(good):
                await asyncio.sleep(self.retry_delay_s)
            return
        for msg, (event, env) in good:
            await self._handle_one(msg, event, env)

    # decoding ---------------------------------------------------------------------------------
    def decode(self, subject: str, data: bytes, headers: dict[str, str] | None) -> tuple[Event, Envelope]:
        """The event of a message, or Undecodable (malformed, or from a service that may not publish it)."""
        metrics = self.bus.metrics
        message_type = (headers or {}).get(MESSAGE_TYPE, "?")
        try:
            env = Envelope.from_headers(headers)
            event_type = message_class(env.message_type)
            event = event_type.decode(data)
            if not isinstance(event, Event):
                raise TypeError(f"{env.message_type} is not an event")
            publisher = event.publisher_of(subject)
        except (ProtocolError, TypeError) as exc:
            error_id = exc.error_id if isinstance(exc, ProtocolError) else "not-an-event"
            metrics.rejected.labels(message_type=message_type[:64], error_id=error_id).inc()
            reason = exc.message if isinstance(exc, ProtocolError) else str(exc)
            raise Undecodable(f"{error_id}: {reason}", "malformed") from None
        if publisher and env.origin_service != publisher:
            metrics.rejected.labels(message_type=event.message_type, error_id="wrong-origin").inc()
            raise Undecodable(
                f"{event.message_type} on {subject} comes from {env.origin_service!r}, "
                f"but only {publisher!r} publishes it",
                "wrong-origin",
            )
        metrics.received.labels(message_type=event.message_type).inc()
        return event, env

    # handling ---------------------------------------------------------------------------------
    async def _handle_one(self, msg: Msg, event: Event, env: Envelope) -> None:
        assert self.handler is not None
        try:
            await self.handler(event, env)
        except Exception as exc:
            self.bus.metrics.handler_errors.labels(message_type=event.message_type).inc()
            await self._failed(msg, exc)
            return
        await _quietly(msg.ack())
        self.handled += 1

    async def _handle_batch(self, items: list[tuple[Msg, tuple[Event, Envelope]]]) -> bool:
        """Store ``items`` in one call, or in halves after a permanent failure. False when a transient
        failure stopped the work (what was not stored is delivered again)."""
        assert self.batch_handler is not None
        try:
            await self.batch_handler([decoded for _, decoded in items])
        except Exception as exc:
            for _, (event, _env) in items:
                self.bus.metrics.handler_errors.labels(message_type=event.message_type).inc()
            if is_transient(exc) or len(items) == 1:
                for msg, _ in items:
                    await self._failed(msg, exc)
                return not is_transient(exc)
            half = len(items) // 2
            log.info(
                "consumer %s: a batch of %d failed (%r); trying its halves", self.durable, len(items), exc
            )
            if await self._handle_batch(items[:half]):
                return await self._handle_batch(items[half:])
            await asyncio.gather(*(_quietly(msg.nak(delay=self.retry_delay_s)) for msg, _ in items[half:]))
            return False
        await asyncio.gather(*(_quietly(msg.ack()) for msg, _ in items))
        self.handled += len(items)
        for msg, _ in items:
            self._failures.pop(_sequence(msg), None)
        return True

    async def _failed(self, msg: Msg, exc: Exception) -> None:
        """Redeliver later, or give the message up when it failed for a permanent reason too often."""
        if is_transient(exc):
            log.warning("consumer %s: %r; redelivery in %.1f s", self.durable, exc, self.retry_delay_s)
            await _quietly(msg.nak(delay=self.retry_delay_s))
            return
        seq = _sequence(msg)
        failures = self._failures.pop(seq, 0) + 1
        if failures >= self.max_failures:
            await self._give_up(msg, "failed", f"{type(exc).__name__}: {exc}", failures)
            return
        self._failures[seq] = failures
        while len(self._failures) > _REMEMBERED_FAILURES:
            self._failures.popitem(last=False)
        delay = min(self.retry_delay_s * 2 ** (failures - 1), 30.0)
        log.warning(
            "consumer %s: %s on %s failed (%d of %d): %r; redelivery in %.1f s",
            self.durable, (msg.headers or {}).get(MESSAGE_TYPE, "?"), msg.subject, failures,
            self.max_failures, exc, delay,
        )  # fmt: skip
        await _quietly(msg.nak(delay=delay))

    async def _give_up(self, msg: Msg, cause: str, reason: str, failures: int = 1) -> None:
        headers = {k: v for k, v in (msg.headers or {}).items() if k != AUTHORIZATION}
        letter = DeadLetter(
            service=self.bus.service,
            consumer=self.durable,
            original_subject=msg.subject[:512],
            original_type=headers.get(MESSAGE_TYPE, "")[:128],
            message_id=headers.get(MESSAGE_ID, "")[:64],
            stream_sequence=_sequence(msg),
            reason=reason[:2000],
            cause=cause,
            deliveries=max(failures, _deliveries(msg)),
            failed_at=datetime.now(UTC),
            headers=headers,
            body_b64=base64.b64encode(msg.data).decode(),
        )
        try:
            await self.bus.publish_acknowledged(letter)
        except Exception as exc:  # not stored: keep the message and try again later
            log.warning("consumer %s: dead letter not stored (%r); redelivery later", self.durable, exc)
            await _quietly(msg.nak(delay=self.retry_delay_s))
            return
        self.bus.metrics.dead_letters.labels(consumer=self.durable, cause=cause).inc()
        self.dead_lettered += 1
        log.error(
            "consumer %s: gave up %s on %s after %d deliveries (%s): %s",
            self.durable, letter.original_type or "a message", msg.subject, letter.deliveries, cause, reason,
        )  # fmt: skip
        await _quietly(msg.term())

    async def replay(self, letter: DeadLetter) -> None:
        """Handle a dead letter of this consumer again (raises what the handler raises)."""
        event, env = self.decode(letter.original_subject, letter.body(), letter.headers)
        if self.batch_handler is not None:
            await self.batch_handler([(event, env)])
        else:
            assert self.handler is not None
            await self.handler(event, env)


def _sequence(msg: Msg) -> int:
    try:
        return int(msg.metadata.sequence.stream)
    except Exception:  # not a JetStream message (never for a pull consumer)
        return 0


def _deliveries(msg: Msg) -> int:
    try:
        return int(msg.metadata.num_delivered)
    except Exception:
        return 1


async def _quietly(op: Awaitable[None]) -> None:
    try:
        await op
    except Exception as exc:  # the ack is lost with the connection; the server redelivers
        log.debug("ack failed: %r", exc)

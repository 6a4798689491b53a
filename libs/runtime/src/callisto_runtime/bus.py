"""The typed bus: publish events, serve and send commands, over nats-py.

Subscriptions are declared on the Bus at any time, connected or not; they are applied once the
first connection succeeds, and nats-py renews them after every reconnect. Events whose subject is
kept by ``CC_EVENTS`` go through the outbox (acknowledged, resent, de-duplicated); all others are
published best effort, buffered by nats-py while reconnecting (bounded, overflow counted).

Received messages are decoded into their classes; a malformed event is counted and dropped, a
malformed command gets an ErrorReply. Handlers never bring a subscription down.

Commands are authorised like HTTP routes: ``serve`` must say which permission a command needs
(``permission=None`` only for the few open ones: the public keys, a service account's login). The
sender's access token travels in the ``Cc-Authorization`` header: the token a caller passes (a user's,
when a service acts on a user's behalf) or else the instance's own service-account token
(``token_source``). The receiver verifies it locally (``verifier``) before the handler runs.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import nats
import nats.errors
import nats.js.errors
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription
from nats.js.api import DeliverPolicy

from callisto_protocol import Command, Envelope, ErrorReply, Event, Message, ProtocolError, Reply
from callisto_protocol.access import inbox_prefix
from callisto_protocol.envelope import CORRELATION_ID, MESSAGE_ID, MESSAGE_TYPE, envelope_headers
from callisto_protocol.streams import (
    DEAD_LETTERS_MAX_AGE_S,
    DEAD_LETTERS_STREAM,
    DEAD_LETTERS_SUBJECTS,
    EVENTS_DUPLICATE_WINDOW_S,
    EVENTS_STREAM,
    EVENTS_STREAM_SUBJECTS,
    is_stream_subject,
)
from callisto_runtime.errors import (
    CallistoError,
    NoResponders,
    NotActive,
    NotConnected,
    RemoteError,
    RequestTimeout,
)
from callisto_runtime.metrics import BusMetrics
from callisto_runtime.outbox import Outbox, Pending
from callisto_runtime.tokens import TokenVerifier

log = logging.getLogger(__name__)

E = TypeVar("E", bound=Event)
C = TypeVar("C", bound=Command)
R = TypeVar("R", bound=Reply)
EventHandler = Callable[[E, Envelope], Awaitable[None]]
CommandHandler = Callable[[C, Envelope], Awaitable[Reply]]
TokenSource = Callable[[], Awaitable[str]]
Scope = Callable[[C], Awaitable[dict[str, str]]]
_NONE = "~"  # an absent value in a permission: never a subject token, so it matches no one's own agent


@dataclass
class _Spec:
    subject: str
    queue: str
    callback: Callable[[Msg], Awaitable[None]]
    takes_work: bool
    sub: Subscription | None = field(default=None)
    active_only: bool = False  # a singleton's work: subscribed only while it holds its lease


class Bus:
    def __init__(
        self,
        service: str,
        instance: str,
        metrics: BusMetrics,
        *,
        outbox_limit: int = 10_000,
        pending_bytes: int = 8 * 1024 * 1024,
        reconnect_wait_s: float = 0.25,
    ) -> None:
        self.service = service
        self.instance = instance
        self.metrics = metrics
        self.outbox = Outbox(outbox_limit, metrics)
        self._pending_bytes = pending_bytes
        self._reconnect_wait_s = reconnect_wait_s
        self._nc: Client | None = None
        self._specs: list[_Spec] = []
        self._tasks: list[asyncio.Task[None]] = []
        self._connected = asyncio.Event()
        self._on_connect: list[Callable[[], Awaitable[None]]] = []
        self._closing = False
        self._password: str | None = None
        self._published_core = metrics.published.labels(mode="core")
        self.verifier: TokenVerifier | None = None  # checks the tokens of commands served
        self.token_source: TokenSource | None = None  # this instance's own token, for commands sent
        self.consumers: dict[str, Any] = {}  # durable name -> DurableConsumer, for replays of dead letters
        self.active = True  # False while a singleton is standby: its active_only work is not subscribed
        # whether this instance holds its lease right now (a frozen active may still be subscribed)
        self.leader_now: Callable[[], bool] = lambda: True
        self.consumer_max_failures = 5  # defaults of the durable consumers on this bus (settings)
        self.consumer_retry_delay_s = 1.0

    # connection -------------------------------------------------------------------------------
    @property
    def connected(self) -> bool:
        return self._nc is not None and self._nc.is_connected

    @property
    def nc(self) -> Client:
        if self._nc is None:
            raise NotConnected("the bus has not connected yet")
        return self._nc

    def on_connect(self, callback: Callable[[], Awaitable[None]]) -> None:
        """Run ``callback`` after the first connection and after every reconnection."""
        self._on_connect.append(callback)

    async def start(self, servers: str | list[str], password: str | None = None) -> None:
        """Connect in the background, retrying until NATS answers; returns at once. ``servers``: a URL,
        several separated by commas (a cluster's seeds), or a list. With ``password`` the bus logs in
        as the NATS user named after the service (see ``callisto_protocol.access``)."""
        self._password = password
        if isinstance(servers, str):
            servers = [url.strip() for url in servers.split(",") if url.strip()]
        self._tasks.append(asyncio.create_task(self._connect_loop(servers), name="bus-connect"))

    async def wait_connected(self, timeout: float | None = None) -> None:
        try:
            await asyncio.wait_for(self._connected.wait(), timeout)
        except TimeoutError:
            raise NotConnected(f"NATS not reachable within {timeout} s") from None

    async def _connect_loop(self, servers: str | list[str]) -> None:
        while not self._closing:
            try:
                self._nc = await nats.connect(
                    servers,
                    name=f"{self.service}/{self.instance}",
                    user=self.service if self._password is not None else None,
                    password=self._password,
                    inbox_prefix=inbox_prefix(self.service),
                    allow_reconnect=True,
                    max_reconnect_attempts=-1,
                    reconnect_time_wait=self._reconnect_wait_s,
                    connect_timeout=2,
                    ping_interval=5,
                    max_outstanding_pings=2,
                    pending_size=self._pending_bytes,
                    disconnected_cb=self._disconnected,
                    reconnected_cb=self._reconnected,
                    error_cb=self._error,
                )
                break
            except Exception as exc:  # first connection failed: retry, the service stays not-ready
                log.warning("NATS not reachable yet (%r); retrying", exc)
                await asyncio.sleep(self._reconnect_wait_s * 2)
        if self._closing or self._nc is None:
            return
        for spec in self._specs:
            await self._apply(spec)
        self._tasks.append(
            asyncio.create_task(
                self.outbox.run(self._nc.jetstream(), lambda: self.connected), name="bus-outbox"
            )
        )
        await self._after_connect()

    async def _after_connect(self) -> None:
        self.metrics.connected.set(1)
        try:
            await ensure_events_stream(self.nc)
            await ensure_dead_letters_stream(self.nc)
        except Exception as exc:
            log.warning("could not ensure streams %s, %s: %r", EVENTS_STREAM, DEAD_LETTERS_STREAM, exc)
        for callback in self._on_connect:
            try:
                await callback()
            except Exception:
                log.exception("on-connect callback failed")
        self._connected.set()
        log.info("connected to NATS", extra={"server": str(self.nc.connected_url)})

    async def _disconnected(self) -> None:
        self.metrics.connected.set(0)
        if not self._closing:
            log.warning("disconnected from NATS")

    async def _reconnected(self) -> None:
        self.metrics.reconnects.inc()
        await self._after_connect()

    async def _error(self, exc: Exception) -> None:
        if "permissions violation" in str(exc).lower():  # a subject this service may not use
            self.metrics.publish_dropped.labels(reason="permission-denied").inc()
            log.error("NATS refused: %s", exc)
            return
        log.debug("NATS client error: %r", exc)

    async def close(self, flush_timeout: float = 5.0) -> None:
        """Deliver what the outbox holds (up to ``flush_timeout``), drain subscriptions, close."""
        if self.connected and len(self.outbox) and not await self.outbox.wait_empty(flush_timeout):
            log.error("closing with %d unacknowledged events", len(self.outbox))
        self._closing = True
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._nc is not None and not self._nc.is_closed:
            try:
                if self._nc.is_connected:
                    await asyncio.wait_for(self._nc.drain(), flush_timeout)
                else:
                    await self._nc.close()
            except Exception as exc:
                log.warning("closing NATS connection: %r", exc)
                await self._nc.close()
        self.metrics.connected.set(0)

    # publishing -------------------------------------------------------------------------------
    def headers(
        self, message: Message, correlation_id: str | None = None, authorization: str | None = None
    ) -> dict[str, str]:
        """The envelope headers of a new message sent by this instance."""
        return envelope_headers(
            message.message_type, self.service, self.instance, correlation_id, authorization
        )

    async def publish(self, event: Event, *, correlation_id: str | None = None) -> str:
        """Publish an event and return its message id. Stream events are accepted into the outbox
        (PublishBufferFull when it is full); others are sent best effort and counted when dropped."""
        headers = self.headers(event, correlation_id)
        subject = event.render_subject()
        if is_stream_subject(subject):
            self.outbox.put(Pending(subject, event.encode(), headers))
        else:
            await self.publish_raw(subject, event.encode(), headers)
        return headers[MESSAGE_ID]

    async def publish_acknowledged(self, event: Event, *, timeout: float = 2.0) -> str:
        """Publish an event kept by a stream and return once the stream stored it (raises otherwise)."""
        headers = self.headers(event)
        await self.nc.jetstream().publish(
            event.render_subject(), event.encode(), headers=headers, timeout=timeout
        )
        return headers[MESSAGE_ID]

    async def publish_raw(self, subject: str, body: bytes, headers: dict[str, str]) -> None:
        if self._nc is None or self._nc.is_closed:
            self.metrics.publish_dropped.labels(reason="not-connected").inc()
            return
        try:
            await self._nc.publish(subject, body, headers=headers)
            self._published_core.inc()
        except nats.errors.OutboundBufferLimitError:
            self.metrics.publish_dropped.labels(reason="reconnect-buffer-full").inc()
        except nats.errors.ConnectionClosedError:
            self.metrics.publish_dropped.labels(reason="not-connected").inc()

    async def request(
        self,
        command: Command,
        *,
        timeout: float = 2.0,
        correlation_id: str | None = None,
        token: str | None = None,
        anonymous: bool = False,
    ) -> Reply:
        """Send a command and wait for its reply; raises NoResponders, RequestTimeout, RemoteError.
        It carries ``token`` when given, else this instance's own token (none when ``anonymous``)."""
        if not self.connected:
            raise NotConnected("NATS is not connected", {"subject": command.render_subject()})
        subject = command.render_subject()
        if token is None and not anonymous and self.token_source is not None:
            token = await self.token_source()
        try:
            msg = await self.nc.request(
                subject,
                command.encode(),
                timeout=timeout,
                headers=self.headers(command, correlation_id, token),
            )
        except nats.errors.NoRespondersError:
            raise NoResponders(f"no responders on {subject}", {"subject": subject}) from None
        except nats.errors.TimeoutError:
            raise RequestTimeout(f"no reply on {subject} within {timeout} s", {"subject": subject}) from None
        except (nats.errors.ConnectionClosedError, nats.errors.OutboundBufferLimitError):
            raise NotConnected("NATS connection lost", {"subject": subject}) from None
        reply_type = (msg.headers or {}).get(MESSAGE_TYPE)
        if reply_type == ErrorReply.message_type:
            raise RemoteError(ErrorReply.decode(msg.data))
        return command.reply_type.decode(msg.data)

    async def call(
        self,
        command: Command,
        reply_type: type[R],
        *,
        timeout: float = 2.0,
        correlation_id: str | None = None,
        token: str | None = None,
        anonymous: bool = False,
    ) -> R:
        """``request`` with the reply's class checked, for typed callers."""
        reply = await self.request(
            command, timeout=timeout, correlation_id=correlation_id, token=token, anonymous=anonymous
        )
        if not isinstance(reply, reply_type):
            raise TypeError(f"{command.message_type} answered {type(reply).__name__}")
        return reply

    # subscribing ------------------------------------------------------------------------------
    async def subscribe(
        self,
        event_type: type[E],
        handler: EventHandler[E],
        *,
        queue: str = "",
        takes_work: bool = False,
        active_only: bool = False,
        **params: str,
    ) -> None:
        """Handle every ``event_type`` matching ``params``; with ``queue``, one member of the group
        gets each event; ``active_only``: only while this singleton instance holds its lease."""

        await self._add(
            _Spec(
                event_type.subscription(**params),
                queue,
                self._event_callback(event_type, handler),
                takes_work,
                active_only=active_only,
            )
        )

    def _event_callback(
        self, event_type: type[E], handler: EventHandler[E]
    ) -> Callable[[Msg], Awaitable[None]]:
        message_type = event_type.message_type
        received = self.metrics.received.labels(message_type=message_type)
        handle_seconds = self.metrics.handle_seconds.labels(message_type=message_type)

        async def callback(msg: Msg) -> None:
            received.inc()
            await self._handle_event(event_type, handler, msg, handle_seconds)

        return callback

    async def _handle_event(
        self, event_type: type[E], handler: EventHandler[E], msg: Msg, handle_seconds: Any
    ) -> None:
        message_type = event_type.message_type
        try:
            env = Envelope.from_headers(msg.headers)
            event = event_type.decode(msg.data)
            publisher = event_type.publisher_of(msg.subject)
        except ProtocolError as exc:
            self.metrics.rejected.labels(message_type=message_type, error_id=exc.error_id).inc()
            log.warning("dropped malformed %s on %s: %s", message_type, msg.subject, exc.message)
            return
        if publisher and env.origin_service != publisher:
            self.metrics.rejected.labels(message_type=message_type, error_id="wrong-origin").inc()
            log.warning(
                "dropped %s on %s from %r: only %r publishes it",
                message_type, msg.subject, env.origin_service, publisher,
            )  # fmt: skip
            return
        started = time.perf_counter()
        try:
            await handler(event, env)
        except Exception:
            self.metrics.handler_errors.labels(message_type=message_type).inc()
            log.exception("handler for %s failed", message_type)
        finally:
            handle_seconds.observe(time.perf_counter() - started)

    async def serve(
        self,
        command_type: type[C],
        handler: CommandHandler[C],
        *,
        permission: str | tuple[str, ...] | None,
        scope: Scope[C] | None = None,
        queue: str | None = None,
        takes_work: bool = True,
        active_only: bool = False,
        **params: str,
    ) -> None:
        """Answer ``command_type``. Instances of a service share the work through a queue group named
        after the service unless ``queue`` says otherwise ("" for every instance).

        The sender must hold ``permission``, or one of several (its ``{field}`` placeholders are filled
        from the command, so they should name fields that cannot hold a dot, and from what ``scope``
        says about the command: e.g. the agent on a call, so that an operator may act on their own
        calls only); ``None`` serves an open command."""
        message_type = command_type.message_type
        if permission is not None and self.verifier is None:
            raise RuntimeError(f"{message_type} needs a permission but the bus has no token verifier")
        # a singleton's command goes to every subscriber: normally only the active one is; during a
        # takeover a frozen old active may still be, and must not swallow requests (it answers standby)
        group = "" if active_only else (self.service if queue is None else queue)
        received = self.metrics.received.labels(message_type=message_type)
        handle_seconds = self.metrics.handle_seconds.labels(message_type=message_type)

        async def callback(msg: Msg) -> None:
            received.inc()
            if not msg.reply:
                self.metrics.rejected.labels(message_type=message_type, error_id="no-reply-subject").inc()
                return
            correlation_id = (msg.headers or {}).get(CORRELATION_ID)
            started = time.perf_counter()
            try:
                if active_only and not self.leader_now():
                    raise NotActive(f"{self.service} {self.instance} is standby", {"instance": self.instance})
                env = Envelope.from_headers(msg.headers)
                command = command_type.decode(msg.data)
                if permission is not None:
                    await self._authorize(env, command, permission, scope)
                reply: Reply = await handler(command, env)
            except ProtocolError as exc:
                self.metrics.rejected.labels(message_type=message_type, error_id=exc.error_id).inc()
                reply = ErrorReply(
                    error_id=exc.error_id, message=exc.message, details=exc.details, status=422
                )
            except CallistoError as exc:
                if exc.status in (401, 403):
                    self.metrics.rejected.labels(message_type=message_type, error_id=exc.error_id).inc()
                reply = exc.to_reply()
            except Exception:
                self.metrics.handler_errors.labels(message_type=message_type).inc()
                log.exception("handler for %s failed", message_type)
                reply = ErrorReply(
                    error_id="internal-error", message=f"{message_type} failed unexpectedly", status=500
                )
            finally:
                handle_seconds.observe(time.perf_counter() - started)
            try:
                await self.nc.publish(msg.reply, reply.encode(), headers=self.headers(reply, correlation_id))
            except Exception as exc:
                log.warning("could not reply to %s: %r", message_type, exc)

        await self._add(
            _Spec(command_type.subscription(**params), group, callback, takes_work, active_only=active_only)
        )

    async def _authorize(
        self, env: Envelope, command: C, permission: str | tuple[str, ...], scope: Scope[C] | None
    ) -> None:
        assert self.verifier is not None  # checked by serve()
        fields = {
            name: _NONE if (v := getattr(command, name)) is None else v for name in type(command).model_fields
        }
        if scope is not None:
            fields.update(await scope(command))
        wanted = (permission,) if isinstance(permission, str) else permission
        required = [p.format_map(fields) for p in wanted]
        claims = await self.verifier.authorize(env.authorization, required[0], *required[1:])
        log.debug("%s authorised for %s", command.message_type, claims.subject)

    async def asker(self, env: Envelope) -> str:
        """Who sent a command served with a permission (authorised already): the subject of its
        token, for the audit trail."""
        assert self.verifier is not None  # serve() refuses a permission without one
        assert env.authorization is not None  # authorised: a token was there
        return (await self.verifier.verify(env.authorization)).subject

    async def follow(self, event_type: type[E], handler: EventHandler[E], **params: str) -> None:
        """Replay the latest ``event_type`` of every matching subject kept by ``CC_EVENTS``, then
        follow new ones. The replay is done again after every reconnection, so the handler must
        tolerate events it has seen (they carry sequence numbers for that)."""
        subject = event_type.subscription(**params)
        current: list[Any] = []

        deliver = self._event_callback(event_type, handler)

        async def resubscribe() -> None:
            for sub in current:
                try:
                    await sub.unsubscribe()
                except Exception as exc:
                    log.debug("follow %s: unsubscribe: %r", subject, exc)
            current.clear()
            js = self.nc.jetstream()
            current.append(
                await js.subscribe(
                    subject,
                    cb=deliver,
                    ordered_consumer=True,
                    stream=EVENTS_STREAM,
                    deliver_policy=DeliverPolicy.LAST_PER_SUBJECT,
                    idle_heartbeat=2.0,
                )
            )

        self.on_connect(resubscribe)
        if self.connected:
            await resubscribe()

    async def _add(self, spec: _Spec) -> None:
        self._specs.append(spec)
        if self._nc is not None and not self._nc.is_closed:
            await self._apply(spec)

    async def _apply(self, spec: _Spec) -> None:
        if spec.active_only and not self.active:
            return
        spec.sub = await self.nc.subscribe(
            spec.subject, queue=spec.queue, cb=spec.callback, pending_msgs_limit=65536
        )

    async def set_active(self, active: bool) -> None:
        """A singleton gained (subscribe its work) or lost its lease (stop taking work at once)."""
        self.active = active
        for spec in self._specs:
            if not spec.active_only:
                continue
            if active and spec.sub is None and self._nc is not None and self._nc.is_connected:
                await self._apply(spec)
            elif not active and spec.sub is not None:
                try:
                    await spec.sub.unsubscribe()
                except Exception as exc:
                    log.warning("unsubscribing %s: %r", spec.subject, exc)
                spec.sub = None

    async def drain_work(self) -> int:
        """Stop taking new work: drain every subscription that takes work. Returns how many."""
        drained = 0
        for spec in self._specs:
            if spec.takes_work and spec.sub is not None:
                try:
                    await spec.sub.drain()  # type: ignore[no-untyped-call]
                except Exception as exc:
                    log.warning("draining %s: %r", spec.subject, exc)
                spec.sub = None
                drained += 1
        self._specs = [s for s in self._specs if not s.takes_work]
        return drained


async def ensure_events_stream(nc: Client) -> None:
    """Create ``CC_EVENTS`` if it does not exist, or give it the subjects of this release (every service
    may; the config is the same)."""
    js = nc.jetstream()
    try:
        info = await js.stream_info(EVENTS_STREAM)
    except nats.js.errors.NotFoundError:
        info = None
    if info is not None:
        if set(info.config.subjects or ()) != set(EVENTS_STREAM_SUBJECTS):  # a newer release added some
            info.config.subjects = list(EVENTS_STREAM_SUBJECTS)
            await js.update_stream(info.config)
        return
    try:
        await js.add_stream(
            name=EVENTS_STREAM,
            subjects=list(EVENTS_STREAM_SUBJECTS),
            duplicate_window=EVENTS_DUPLICATE_WINDOW_S,
            max_age=7 * 24 * 3600.0,
        )
    except nats.js.errors.BadRequestError as exc:  # created by another instance meanwhile
        log.debug("add_stream: %r", exc)


async def ensure_dead_letters_stream(nc: Client) -> None:
    """Create ``CC_DEAD_LETTERS`` if it does not exist (kept 30 days; replayed or deleted by hand)."""
    js = nc.jetstream()
    try:
        await js.stream_info(DEAD_LETTERS_STREAM)
        return
    except nats.js.errors.NotFoundError:
        pass
    try:
        await js.add_stream(
            name=DEAD_LETTERS_STREAM, subjects=list(DEAD_LETTERS_SUBJECTS), max_age=DEAD_LETTERS_MAX_AGE_S
        )
    except nats.js.errors.BadRequestError as exc:  # created by another instance meanwhile
        log.debug("add_stream: %r", exc)

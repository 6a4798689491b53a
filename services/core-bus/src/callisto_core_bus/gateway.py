"""The WebSocket gateway (``GET /api/v1/ws``): the bus events a signed-in person may see, relayed to
their browser.

Protocol (JSON text frames):

- the client's first message, within ``auth_timeout_s``: ``{"type": "auth", "token": "<access>"}``
  (a browser cannot set headers on a WebSocket, and a token in the URL would end up in logs). The
  same message later renews the token before it expires; a token of another person is refused
  (close 4403). A connection whose token expires unrenewed is closed (4401), as is one with a bad
  token;
- the gateway answers ``{"type": "hello", "subject", "login", "name", "agent_id", "roles", "expires_at",
  "streams"}``,
  then one ``{"type": "snapshot", "stream", "seq": 0, "items"}`` per listed stream (``agents``,
  ``calls``): a client that was away resyncs from it without a reload;
- then ``{"type": "event", "stream", "seq", "event": {"message_type", ...}}``, ``seq`` growing by one
  per stream and connection: a gap means something was lost and the client reconnects.

What a person sees follows their token's permissions, checked per event: an agent's state, help
requests and phone registrations when they may read that agent (``qm.agents.<id>.read``: an operator
their own, a supervisor everyone); a call when they may read every call (``cm.calls.read``) or it is
their agent's (``cm.calls.<agent>.read``), and the step that takes a call the client was told of
away from it (a transfer to another agent: the client drops the call); a queue's steps when they
may read every agent, or the queue is one of their own agent's; supervision (listen/whisper) when
they may listen (``cm.calls.listen``); a ticket's changes when they may read every ticket
(``helpdesk.tickets.read``), or it is assigned to their own agent; a preview campaign's card when it is
offered to their own agent (``dialer.agents.<id>.preview``) or they manage previews; campaigns' figures
when they may read campaigns (``dialer.campaigns.read``).

A slow client is dropped, never buffered without bound: each connection has ``queue_limit`` events
of room; when it is full the connection is closed (1013, "try again later") and counted.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi import WebSocket, WebSocketDisconnect
from prometheus_client import CollectorRegistry, Gauge
from prometheus_client import Counter as MetricCounter
from pydantic import BaseModel, ValidationError

from callisto_core_bus.lists import AgentBook, CallBook
from callisto_protocol import Envelope, Event
from callisto_protocol.agents import AgentStateChanged
from callisto_protocol.calls import CallState, CallStateChanged
from callisto_protocol.dialer import CampaignFigures, PreviewOffered
from callisto_protocol.help import HelpRequestChanged
from callisto_protocol.queues import QueueCallEvent
from callisto_protocol.telephony import ListenerChanged, RegistrationChanged
from callisto_protocol.tickets import TicketChanged
from callisto_runtime import Bus, CallistoError
from callisto_runtime.tokens import Claims, TokenVerifier

log = logging.getLogger(__name__)
UNAUTHORIZED, FORBIDDEN, SLOW = 4401, 4403, 1013


@dataclass(frozen=True)
class Stream:
    name: str
    event: type[Event]
    visible: Callable[[Claims, Any, AgentBook], bool]  # (claims, event, agents) -> may they see it
    listed: bool = False  # fed by core-bus's lists (only events they took), not a subscription


def sees_agent(claims: Claims, agent_id: str | None) -> bool:
    return agent_id is not None and claims.can(f"qm.agents.{agent_id}.read")


def sees_call(claims: Claims, agent_id: str | None) -> bool:
    return claims.can("cm.calls.read") or (agent_id is not None and claims.can(f"cm.calls.{agent_id}.read"))


def sees_ticket(claims: Claims, assignee: str | None) -> bool:
    """Every ticket's changes for those who read every ticket; an operator those of the tickets
    assigned to their own agent (helpdesk decides the rest when the client asks for the ticket)."""
    if claims.can("helpdesk.tickets.read"):
        return True
    own = claims.agent_id
    return own is not None and assignee == own and claims.can(f"helpdesk.agents.{own}.tickets.read")


def sees_preview(claims: Claims, agent_id: str) -> bool:
    """A preview's card: the agent it is offered to, and those who manage every agent's previews."""
    if claims.can("dialer.preview.manage"):
        return True
    return claims.agent_id == agent_id and claims.can(f"dialer.agents.{agent_id}.preview")


def sees_queue(claims: Claims, queue_id: str, agents: AgentBook) -> bool:
    if claims.can("qm.agents.read"):
        return True
    own = agents.get(claims.agent_id) if claims.agent_id else None
    return own is not None and queue_id in own.queues and claims.can("qm.queues.read")


STREAMS = (
    Stream("agents", AgentStateChanged, lambda c, e, _: sees_agent(c, e.agent_id), listed=True),
    Stream("calls", CallStateChanged, lambda c, e, _: sees_call(c, e.agent_id), listed=True),
    Stream("help", HelpRequestChanged, lambda c, e, _: sees_agent(c, e.agent_id)),
    Stream("phones", RegistrationChanged, lambda c, e, _: sees_agent(c, e.agent_id)),
    Stream("queues", QueueCallEvent, lambda c, e, agents: sees_queue(c, e.queue_id, agents)),
    Stream("supervision", ListenerChanged, lambda c, _e, _a: c.can("cm.calls.listen")),
    Stream("tickets", TicketChanged, lambda c, e, _: sees_ticket(c, e.assignee)),
    Stream("previews", PreviewOffered, lambda c, e, _: sees_preview(c, e.agent_id)),
    Stream("campaigns", CampaignFigures, lambda c, _e, _a: c.can("dialer.campaigns.read")),
)


BY_NAME = {stream.name: stream for stream in STREAMS}


class Auth(BaseModel):
    type: str
    token: str


class GatewayMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.connections = Gauge(
            "callisto_gateway_connections", "Open gateway connections", registry=registry
        )
        self.sent = MetricCounter(
            "callisto_gateway_events_sent", "Events relayed to clients", ["stream"], registry=registry
        )
        self.closed = MetricCounter(
            "callisto_gateway_closed",
            "Connections the gateway closed, by reason",
            ["reason"],
            registry=registry,
        )


class Connection:
    def __init__(self, socket: WebSocket, claims: Claims, queue_limit: int) -> None:
        self.socket = socket
        self.claims = claims
        self.outbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue(maxsize=queue_limit)
        self.seq: Counter[str] = Counter()
        self.closing: tuple[int, str] | None = None
        self.wake = asyncio.Event()  # set when the connection must close (slow, expired)
        # calls the client was told of: the step that takes one away from it (a transfer to another
        # agent) is relayed too, so the client drops the call instead of keeping a stale one
        self.calls: set[str] = set()

    def follow(self, event: CallStateChanged, visible: bool) -> bool:
        """Whether the client is told of ``event``: when it may see it, or once more when the call
        was one it was told of (then it is not followed further)."""
        told = event.call_id in self.calls
        if visible and event.state is not CallState.ENDED:
            self.calls.add(event.call_id)
        else:
            self.calls.discard(event.call_id)
        return visible or told

    def offer(self, stream: str, body: dict[str, Any]) -> bool:
        """Queue one event; False when there is no room (the client does not keep up)."""
        if self.closing is not None:
            return True
        self.seq[stream] += 1
        try:
            self.outbox.put_nowait(
                {"type": "event", "stream": stream, "seq": self.seq[stream], "event": body}
            )
        except asyncio.QueueFull:
            return False
        return True

    def close_with(self, code: int, reason: str) -> None:
        if self.closing is None:
            self.closing = (code, reason)
            self.wake.set()


class Gateway:
    def __init__(
        self, verifier: TokenVerifier, agents: AgentBook, calls: CallBook, registry: CollectorRegistry,
        *, queue_limit: int = 1000, auth_timeout_s: float = 5.0,
    ) -> None:  # fmt: skip
        self.verifier = verifier
        self.agents = agents
        self.calls = calls
        self.queue_limit = queue_limit
        self.auth_timeout_s = auth_timeout_s
        self.metrics = GatewayMetrics(registry)
        self.connections: set[Connection] = set()

    async def subscribe(self, bus: Bus) -> None:
        for stream in STREAMS:
            if not stream.listed:
                await bus.subscribe(stream.event, self._relay(stream.name))

    def relay(self, name: str, event: Event) -> None:
        """Queue ``event`` for every connection that may see it. The lists call it for each agent or
        call event they take (not a stale one, nor a replay), in the same step: a snapshot and the
        events after it never miss or repeat one."""
        stream = BY_NAME[name]
        body = {"message_type": event.message_type, **event.model_dump(mode="json")}
        for connection in list(self.connections):
            visible = stream.visible(connection.claims, event, self.agents)
            if isinstance(event, CallStateChanged):
                visible = connection.follow(event, visible)
            if not visible:
                continue
            if connection.offer(stream.name, body):
                self.metrics.sent.labels(stream=stream.name).inc()
            else:
                self.metrics.closed.labels(reason="slow").inc()
                connection.close_with(SLOW, "the client does not keep up; reconnect")

    def _relay(self, name: str) -> Callable[[Any, Envelope], Any]:
        async def relay(event: Event, _: Envelope) -> None:
            self.relay(name, event)

        return relay

    # one connection -------------------------------------------------------------------------------
    async def serve(self, socket: WebSocket) -> None:
        await socket.accept()
        claims = await self._first_auth(socket)
        if claims is None:
            return
        connection = Connection(socket, claims, self.queue_limit)
        # hello, the snapshots and joining the relay in one step: every later event follows them
        connection.outbox.put_nowait(self._hello(claims))
        for name, items in self._snapshots(claims):
            connection.outbox.put_nowait({"type": "snapshot", "stream": name, "seq": 0, "items": items})
            if name == "calls":
                connection.calls = {item["call_id"] for item in items}
        self.connections.add(connection)
        self.metrics.connections.inc()
        tasks = [
            asyncio.create_task(self._write(connection)),
            asyncio.create_task(self._read(connection)),
            asyncio.create_task(self._expire(connection)),
        ]
        try:
            await connection.wake.wait()
        finally:
            self.connections.discard(connection)
            self.metrics.connections.dec()
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        if connection.closing is not None and connection.closing[0] != 1000:
            code, reason = connection.closing
            with contextlib.suppress(Exception):  # the client may be gone already
                await asyncio.wait_for(socket.close(code, reason), 10.0)

    async def _first_auth(self, socket: WebSocket) -> Claims | None:
        try:
            text = await asyncio.wait_for(socket.receive_text(), self.auth_timeout_s)
            return await self._verify(text)
        except TimeoutError:
            await self._refuse(socket, UNAUTHORIZED, "no auth message in time")
        except (CallistoError, ValidationError, ValueError) as exc:
            await self._refuse(socket, UNAUTHORIZED, _reason(exc))
        except WebSocketDisconnect:
            pass
        return None

    async def _verify(self, text: str) -> Claims:
        auth = Auth.model_validate_json(text)
        if auth.type != "auth":
            raise ValueError("the first message must be {'type': 'auth', 'token': ...}")
        return await self.verifier.verify(auth.token)

    async def _refuse(self, socket: WebSocket, code: int, reason: str) -> None:
        self.metrics.closed.labels(reason="unauthorized").inc()
        with contextlib.suppress(Exception):
            await socket.close(code, reason[:120])

    def _hello(self, claims: Claims) -> dict[str, Any]:
        return {
            "type": "hello", "subject": claims.subject, "login": claims.login, "name": claims.name,
            "agent_id": claims.agent_id,
            "roles": list(claims.roles), "expires_at": claims.expires_at,
            "streams": [stream.name for stream in STREAMS],
        }  # fmt: skip

    def _snapshots(self, claims: Claims) -> list[tuple[str, list[dict[str, Any]]]]:
        agents = [a.model_dump(mode="json") for a in self.agents.entries() if sees_agent(claims, a.agent_id)]
        calls = [c.model_dump(mode="json") for c in self.calls.entries() if sees_call(claims, c.agent_id)]
        return [("agents", agents), ("calls", calls)]

    async def _write(self, connection: Connection) -> None:
        try:
            while True:
                message = await connection.outbox.get()
                await connection.socket.send_text(json.dumps(message))
        except Exception:  # the client went away
            connection.close_with(1000, "gone")

    async def _read(self, connection: Connection) -> None:
        """The client speaks only to renew its token."""
        try:
            while True:
                text = await connection.socket.receive_text()
                try:
                    claims = await self._verify(text)
                except (CallistoError, ValidationError, ValueError) as exc:
                    connection.close_with(UNAUTHORIZED, _reason(exc))
                    return
                if claims.subject != connection.claims.subject:
                    self.metrics.closed.labels(reason="forbidden").inc()
                    connection.close_with(FORBIDDEN, "a token of someone else")
                    return
                connection.claims = claims
                await connection.outbox.put({"type": "renewed", "expires_at": claims.expires_at})
        except Exception:  # disconnected
            connection.close_with(1000, "gone")

    async def _expire(self, connection: Connection) -> None:
        """Close the connection when its token expires unrenewed (a renewal moves the deadline)."""
        while True:
            left = connection.claims.expires_at - time.time()
            if left <= 0:
                self.metrics.closed.labels(reason="expired").inc()
                connection.close_with(UNAUTHORIZED, "the token expired")
                return
            await asyncio.sleep(min(left, 5.0))


def _reason(exc: Exception) -> str:
    return (exc.message if isinstance(exc, CallistoError) else str(exc).splitlines()[0])[:120]

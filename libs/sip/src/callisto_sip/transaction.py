"""Transactions of RFC 3261 section 17: INVITE and non-INVITE, client and server.

Each transaction is a state machine whose state changes only in ``_set_state`` (checked against the
table of allowed transitions). Timers (RFC 3261 table 4):

    client INVITE      A: retransmit INVITE (T1, doubling)   B: give up (64*T1)   D: absorb final (32 s)
    client non-INVITE  E: retransmit (T1 doubling to T2)     F: give up (64*T1)   K: absorb (T4)
    server INVITE      G: retransmit final (T1 doubling to T2)  H: wait for ACK (64*T1)  I: absorb ACK (T4)
                       L: after a 2xx, absorb INVITE retransmissions (64*T1; RFC 6026 "Accepted")
    server non-INVITE  J: absorb request retransmissions (64*T1)

Over a reliable transport (TCP) A, E and G do not run and D, I, J, K are zero.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING

from callisto_sip.errors import TransactionError
from callisto_sip.headers import Headers
from callisto_sip.message import Request, Response

if TYPE_CHECKING:
    from callisto_sip.transport import Address, Transport

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Timers:
    t1: float = 0.5
    t2: float = 4.0
    t4: float = 5.0
    d: float = 32.0

    @property
    def b(self) -> float:
        return 64 * self.t1


class State(Enum):
    CALLING = "calling"
    TRYING = "trying"
    PROCEEDING = "proceeding"
    COMPLETED = "completed"
    ACCEPTED = "accepted"
    CONFIRMED = "confirmed"
    TERMINATED = "terminated"


S = State
_ALLOWED: dict[str, dict[State, set[State]]] = {
    "client-invite": {S.CALLING: {S.PROCEEDING, S.COMPLETED, S.TERMINATED},
                      S.PROCEEDING: {S.COMPLETED, S.TERMINATED}, S.COMPLETED: {S.TERMINATED}},
    "client-non-invite": {S.TRYING: {S.PROCEEDING, S.COMPLETED, S.TERMINATED},
                          S.PROCEEDING: {S.COMPLETED, S.TERMINATED}, S.COMPLETED: {S.TERMINATED}},
    "server-invite": {S.PROCEEDING: {S.COMPLETED, S.ACCEPTED, S.TERMINATED}, S.ACCEPTED: {S.TERMINATED},
                      S.COMPLETED: {S.CONFIRMED, S.TERMINATED}, S.CONFIRMED: {S.TERMINATED}},
    "server-non-invite": {S.TRYING: {S.PROCEEDING, S.COMPLETED, S.TERMINATED},
                          S.PROCEEDING: {S.COMPLETED, S.TERMINATED}, S.COMPLETED: {S.TERMINATED}},
}  # fmt: skip


class Transaction:
    kind = "transaction"

    def __init__(
        self,
        key: tuple[str, ...],
        request: Request,
        transport: Transport,
        peer: Address,
        timers: Timers,
        on_terminated: Callable[[Transaction], None],
        initial: State,
    ) -> None:
        self.key = key
        self.request = request
        self.transport = transport
        self.peer = peer
        self.timers = timers
        self.state = initial
        self._on_terminated = on_terminated
        self._handles: dict[str, asyncio.TimerHandle] = {}
        self.retransmissions = 0

    def _set_state(self, new: State) -> None:
        if new is self.state:
            return
        if new not in _ALLOWED[self.kind].get(self.state, set()):
            raise TransactionError(
                f"{self.kind} transaction cannot go from {self.state.value} to {new.value}"
            )
        log.debug("%s %s: %s -> %s", self.kind, self.key[0], self.state.value, new.value)
        self.state = new
        if new is State.TERMINATED:
            for handle in self._handles.values():
                handle.cancel()
            self._handles.clear()
            self._terminated()
            self._on_terminated(self)

    def _terminated(self) -> None:
        """What a kind of transaction does when it ends."""

    def abandon(self) -> None:
        """End now, whatever the state (the endpoint is closing): no more timers, no more sends."""
        if self.state is not State.TERMINATED:
            self._set_state(State.TERMINATED)

    def _start_timer(self, name: str, delay: float, fire: Callable[[], None]) -> None:
        self._stop_timer(name)
        self._handles[name] = asyncio.get_running_loop().call_later(delay, self._fire, name, fire)

    def _fire(self, name: str, fire: Callable[[], None]) -> None:
        self._handles.pop(name, None)
        if self.state is not State.TERMINATED:
            fire()

    def _stop_timer(self, name: str) -> None:
        handle = self._handles.pop(name, None)
        if handle is not None:
            handle.cancel()

    def _send(self, message: Request | Response) -> None:
        task = asyncio.get_running_loop().create_task(self.transport.send(message, self.peer))
        task.add_done_callback(self._sent)

    def _sent(self, task: asyncio.Task[None]) -> None:
        if not task.cancelled() and task.exception() is not None:
            self._transport_failed(task.exception())

    def _transport_failed(self, exc: BaseException | None) -> None:
        log.info("%s %s: transport error %r", self.kind, self.key[0], exc)
        if self.state is not State.TERMINATED:
            self._set_state(State.TERMINATED)


class ClientTransaction(Transaction):
    """Sends a request and collects its responses. ``final`` resolves with the final response, or
    with TransactionError on timeout (Timer B/F) or transport failure."""

    def __init__(
        self,
        key: tuple[str, ...],
        request: Request,
        transport: Transport,
        peer: Address,
        timers: Timers,
        on_terminated: Callable[[Transaction], None],
        on_provisional: Callable[[Response], None] | None = None,
    ) -> None:
        invite = request.method == "INVITE"
        self.kind = "client-invite" if invite else "client-non-invite"
        super().__init__(
            key, request, transport, peer, timers, on_terminated, State.CALLING if invite else State.TRYING
        )
        self.final: asyncio.Future[Response] = asyncio.get_running_loop().create_future()
        self.on_provisional = on_provisional
        self._interval = timers.t1
        self._ack: Request | None = None

    def start(self) -> None:
        self._send(self.request)
        if not self.transport.reliable:
            self._start_timer("A/E", self.timers.t1, self._retransmit)
        self._start_timer("B/F", self.timers.b, self._timeout)

    def _retransmit(self) -> None:
        if self.state in (State.CALLING, State.TRYING, State.PROCEEDING) and not (
            self.kind == "client-invite" and self.state is State.PROCEEDING
        ):
            self.retransmissions += 1
            self._send(self.request)
            if self.kind == "client-invite":
                self._interval *= 2
            else:
                self._interval = min(self._interval * 2, self.timers.t2)
            self._start_timer("A/E", self._interval, self._retransmit)

    def _timeout(self) -> None:
        if not self.final.done():
            self.final.set_exception(
                TransactionError(
                    f"no final response to {self.request.method} within {self.timers.b} s", error_id="timeout"
                )
            )
        self._set_state(State.TERMINATED)

    def receive(self, response: Response) -> None:
        if self.state is State.COMPLETED:
            if self._ack is not None and response.status >= 300:
                self._send(self._ack)  # the final response again: our ACK was lost
            return
        if response.status < 200:
            if self.kind == "client-invite":
                self._stop_timer("A/E")
                self._stop_timer("B/F")  # an answered INVITE waits for its final response
            if self.state in (State.CALLING, State.TRYING):
                self._set_state(State.PROCEEDING)
                if self.kind == "client-non-invite" and not self.transport.reliable:
                    self._interval = self.timers.t2
                    self._start_timer("A/E", self._interval, self._retransmit)
            if self.on_provisional is not None:
                self.on_provisional(response)
            return
        if not self.final.done():
            self.final.set_result(response)
        self._stop_timer("A/E")
        self._stop_timer("B/F")
        if self.kind == "client-invite":
            if response.status < 300:
                self._set_state(State.TERMINATED)  # the TU acknowledges 2xx itself
                return
            self._ack = ack_for_failure(self.request, response)
            self._send(self._ack)
            self._set_state(State.COMPLETED)
            self._start_timer("D", 0 if self.transport.reliable else self.timers.d, self._end)
        else:
            self._set_state(State.COMPLETED)
            self._start_timer("K", 0 if self.transport.reliable else self.timers.t4, self._end)

    def _end(self) -> None:
        self._set_state(State.TERMINATED)

    def _transport_failed(self, exc: BaseException | None) -> None:
        if not self.final.done():
            self.final.set_exception(
                TransactionError(f"transport failed: {exc!r}", error_id="transport-error")
            )
        super()._transport_failed(exc)

    def _terminated(self) -> None:
        if not self.final.done():
            self.final.set_exception(TransactionError("transaction ended without a final response"))


class ServerTransaction(Transaction):
    """Holds a received request; the TU answers with ``respond``. Retransmitted requests are absorbed
    (the last response is sent again)."""

    def __init__(
        self,
        key: tuple[str, ...],
        request: Request,
        transport: Transport,
        peer: Address,
        timers: Timers,
        on_terminated: Callable[[Transaction], None],
    ) -> None:
        invite = request.method == "INVITE"
        self.kind = "server-invite" if invite else "server-non-invite"
        super().__init__(
            key, request, transport, peer, timers, on_terminated, State.PROCEEDING if invite else State.TRYING
        )
        self.last_response: Response | None = None
        self.acked = asyncio.get_running_loop().create_future()
        self.cancelled = False
        self.on_cancel: Callable[[], None] | None = None
        self._interval = timers.t1

    @property
    def final_sent(self) -> bool:
        return self.last_response is not None and self.last_response.status >= 200

    def respond(self, response: Response) -> None:
        if self.final_sent or self.state is State.TERMINATED:
            raise TransactionError(f"{self.request.method} was already answered")
        self.last_response = response
        self._send(response)
        if response.status < 200:
            if self.state is State.TRYING:
                self._set_state(State.PROCEEDING)
            return
        if self.kind == "server-invite":
            if response.status < 300:
                # the TU (dialog) retransmits the 2xx until the ACK; the transaction stays to absorb
                # INVITE retransmissions, so a lost 2xx never starts a second call (RFC 6026)
                self._set_state(State.ACCEPTED)
                self._start_timer("L", self.timers.b, self._end)
                return
            self._set_state(State.COMPLETED)
            if not self.transport.reliable:
                self._start_timer("G", self._interval, self._retransmit_final)
            self._start_timer("H", self.timers.b, self._no_ack)
        else:
            self._set_state(State.COMPLETED)
            self._start_timer("J", 0 if self.transport.reliable else self.timers.b, self._end)

    def receive_retransmission(self, request: Request) -> bool:
        """Absorb a retransmitted request; False when it is not ours to absorb (an ACK for a 2xx
        matched by RFC 2543 rules belongs to the dialog)."""
        if self.state is State.ACCEPTED:
            return request.method != "ACK"
        if request.method == "ACK":
            if self.state is State.COMPLETED:
                self._stop_timer("G")
                self._stop_timer("H")
                if not self.acked.done():
                    self.acked.set_result(None)
                self._set_state(State.CONFIRMED)
                self._start_timer("I", 0 if self.transport.reliable else self.timers.t4, self._end)
            return True
        if self.last_response is not None and self.state in (State.PROCEEDING, State.COMPLETED):
            self.retransmissions += 1
            self._send(self.last_response)
        return True

    def _retransmit_final(self) -> None:
        if self.state is State.COMPLETED and self.last_response is not None:
            self.retransmissions += 1
            self._send(self.last_response)
            self._interval = min(self._interval * 2, self.timers.t2)
            self._start_timer("G", self._interval, self._retransmit_final)

    def _no_ack(self) -> None:
        log.info("server INVITE %s: no ACK within Timer H", self.key[0])
        self._set_state(State.TERMINATED)

    def _end(self) -> None:
        self._set_state(State.TERMINATED)

    def cancel(self) -> None:
        """A matching CANCEL arrived (the TU answers 487 if it has not answered yet)."""
        self.cancelled = True
        if self.on_cancel is not None:
            self.on_cancel()


def same_transaction_request(invite: Request, method: str, to: str) -> Request:
    """A request that belongs with an INVITE's transaction: its Via (branch included), Route, From,
    Call-ID and CSeq number, with ``method`` and the given To (RFC 3261 9.1 CANCEL, 17.1.1.3 ACK)."""
    headers = Headers()
    headers.add("Via", invite.headers.values("Via")[0])
    for value in invite.headers.raw_values("Route"):
        headers.add("Route", value)
    headers.add("From", invite.headers.get("From") or "")
    headers.add("To", to)
    headers.add("Call-ID", invite.call_id)
    headers.add("CSeq", f"{invite.cseq.number} {method}")
    headers.add("Max-Forwards", "70")
    return Request(method=method, uri=invite.uri, headers=headers)


def ack_for_failure(invite: Request, response: Response) -> Request:
    """The ACK a client INVITE transaction sends for a 3xx-6xx (RFC 3261 17.1.1.3): To from the response."""
    return same_transaction_request(invite, "ACK", response.headers.get("To") or "")

"""A small user agent on top of the endpoint: answer, reject or redirect incoming INVITEs, place
calls, send in-dialog requests, and observe dialog state changes (RFC 3261 sections 12-15).

    ua = UserAgent(endpoint, user="callisto", on_invite=handle)
    async def handle(call: IncomingCall) -> None:
        call.ring()
        dialog = await call.answer(sdp_answer)
    dialog = await ua.call("sip:agent@10.0.0.5", ("10.0.0.5", 5060), body=sdp_offer)
    await dialog.bye()
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Awaitable, Callable
from enum import Enum
from typing import Any

from callisto_sip.endpoint import Endpoint, new_branch, new_tag, response_to
from callisto_sip.errors import DialogError, SipError
from callisto_sip.headers import Headers, NameAddr
from callisto_sip.message import Request, Response
from callisto_sip.transaction import ClientTransaction, ServerTransaction, same_transaction_request
from callisto_sip.transport import Address, Incoming
from callisto_sip.uri import SipUri, Uri, parse_uri

log = logging.getLogger(__name__)
ALLOW = "INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, UPDATE, REFER, NOTIFY"
_IN_DIALOG_OK = {"INFO", "UPDATE", "OPTIONS", "NOTIFY"}


class DialogState(Enum):
    EARLY = "early"
    CONFIRMED = "confirmed"
    TERMINATED = "terminated"


_DIALOG_MOVES = {DialogState.EARLY: {DialogState.CONFIRMED, DialogState.TERMINATED},
                 DialogState.CONFIRMED: {DialogState.TERMINATED}}  # fmt: skip


class CallFailed(SipError):
    """The INVITE got a final response other than 2xx."""

    error_id = "call-failed"

    def __init__(self, response: Response) -> None:
        super().__init__(f"call answered {response.status} {response.reason}")
        self.response = response


def peer_of(uri: Uri) -> Address:
    if not isinstance(uri, SipUri):
        raise DialogError(f"cannot send to a {uri.scheme} URI")
    return uri.host.strip("[]"), uri.port or (5061 if uri.scheme == "sips" else 5060)


class Dialog:
    def __init__(
        self,
        ua: UserAgent,
        *,
        call_id: str,
        local: NameAddr,
        remote: NameAddr,
        remote_target: Uri,
        route_set: list[str],
        local_seq: int,
        remote_seq: int | None,
        protocol: str,
        state: DialogState,
    ) -> None:
        self.ua = ua
        self.call_id = call_id
        self.local = local
        self.remote = remote
        self.remote_target = remote_target
        self.route_set = route_set
        self.local_seq = local_seq
        self.remote_seq = remote_seq
        self.protocol = protocol
        self.state = state
        self.acked = asyncio.Event()
        self.ack: Request | None = None  # the ACK we sent for a 2xx, sent again if the 2xx repeats
        self.answer: Response | None = None  # the 2xx we sent, retransmitted until ACK
        self.answered: Response | None = None  # the 2xx we received to our INVITE (its SDP answer)

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.call_id, self.local.tag or "", self.remote.tag or "")

    def _set_state(self, new: DialogState) -> None:
        if new is self.state:
            return
        if new not in _DIALOG_MOVES.get(self.state, set()):
            raise DialogError(f"dialog cannot go from {self.state.value} to {new.value}")
        log.debug("dialog %s: %s -> %s", self.call_id, self.state.value, new.value)
        self.state = new
        if new is DialogState.TERMINATED:
            self.ua.dialogs.pop(self.key, None)
        for observer in list(self.ua.observers):
            observer(self, new)

    @property
    def next_hop(self) -> Address:
        if self.route_set:
            return peer_of(NameAddr.parse(self.route_set[0]).uri)
        return peer_of(self.remote_target)

    def build(self, method: str, body: bytes = b"", content_type: str | None = None) -> Request:
        if method not in ("ACK", "CANCEL"):
            self.local_seq += 1
        headers = Headers()
        for route in self.route_set:
            headers.add("Route", route)
        headers.add("Max-Forwards", "70")
        headers.add("From", str(self.local))
        headers.add("To", str(self.remote))
        headers.add("Call-ID", self.call_id)
        headers.add("CSeq", f"{self.local_seq} {method}")
        headers.add("Contact", self.ua.contact(self.protocol))
        if body:
            headers.add("Content-Type", content_type or "application/sdp")
        return Request(method=method, uri=self.remote_target, headers=headers, body=body)

    async def request(self, method: str, body: bytes = b"", content_type: str | None = None) -> Response:
        """Send an in-dialog request (BYE, re-INVITE, UPDATE, INFO, OPTIONS, REFER, NOTIFY)."""
        if self.state is DialogState.TERMINATED:
            raise DialogError("the dialog has ended")
        request = self.build(method, body, content_type)
        tx = self.ua.endpoint.send_request(request, self.next_hop, self.protocol)
        response = await tx.final
        if method == "INVITE" and response.status < 300:
            await self.ua.send_ack(self, response)
        if response.status in (408, 481):
            self._set_state(DialogState.TERMINATED)
        return response

    async def bye(self) -> Response:
        """End the dialog. It ends once the BYE is sent (RFC 3261 15.1.1), whatever comes back; a BYE
        that gets no answer raises TransactionError."""
        try:
            return await self.request("BYE")
        finally:
            if self.state is not DialogState.TERMINATED:
                self._set_state(DialogState.TERMINATED)


class IncomingCall:
    """A new INVITE waiting for the application's answer."""

    def __init__(self, ua: UserAgent, tx: ServerTransaction) -> None:
        self.ua = ua
        self.tx = tx
        self.request = tx.request
        self.to_tag = new_tag()
        self.cancelled = asyncio.Event()
        tx.on_cancel = self._cancelled

    def _cancelled(self) -> None:
        self.cancelled.set()
        if not self.tx.final_sent:
            self.tx.respond(response_to(self.request, 487, "Request Terminated", to_tag=self.to_tag))

    def ring(self, status: int = 180, reason: str = "Ringing") -> None:
        if not self.tx.final_sent:
            self.tx.respond(self._response(status, reason))

    def reject(
        self, status: int = 486, reason: str = "Busy Here", headers: dict[str, str] | None = None
    ) -> None:
        response = self._response(status, reason)
        for name, value in (headers or {}).items():
            response.headers.add(name, value)
        self.tx.respond(response)

    def redirect(self, contacts: list[str], status: int = 302, reason: str = "Moved Temporarily") -> None:
        self.reject(status, reason, {"Contact": ", ".join(f"<{c}>" for c in contacts)})

    async def answer(self, body: bytes = b"", content_type: str = "application/sdp") -> Dialog:
        """Send 200 OK (retransmitted until the ACK comes); the dialog is confirmed by the ACK."""
        if self.tx.final_sent:
            raise DialogError("the INVITE was already answered or cancelled")
        response = self._response(200, "OK")
        response.headers.add("Contact", self.ua.contact(self.tx.transport.protocol))
        response.headers.add("Allow", ALLOW)
        if body:
            response.headers.add("Content-Type", content_type)
            response.body = body
        dialog = self.ua.uas_dialog(self.request, response, self.tx.transport.protocol)
        dialog.answer = response
        self.tx.respond(response)
        self.ua.retransmit_2xx(dialog, self.tx.peer)
        return dialog

    def _response(self, status: int, reason: str) -> Response:
        response = response_to(self.request, status, reason, to_tag=self.to_tag)
        for value in self.request.headers.raw_values("Record-Route"):
            response.headers.add("Record-Route", value)
        return response


class UserAgent:
    def __init__(
        self,
        endpoint: Endpoint,
        *,
        user: str = "callisto",
        on_invite: Callable[[IncomingCall], Awaitable[None]] | None = None,
        on_request: Callable[[Dialog, ServerTransaction], Awaitable[None]] | None = None,
        on_other: Callable[[ServerTransaction], Awaitable[None]] | None = None,
    ) -> None:
        """``on_invite`` gets new INVITEs, ``on_request`` in-dialog requests but BYE, ``on_other``
        out-of-dialog requests other than INVITE and OPTIONS (REGISTER, MESSAGE, SUBSCRIBE...)."""
        self.endpoint = endpoint
        self.user = user
        self.on_invite = on_invite
        self.on_request = on_request
        self.on_other = on_other
        self.dialogs: dict[tuple[str, str, str], Dialog] = {}
        self.observers: list[Callable[[Dialog, DialogState], None]] = []
        self._tasks: set[asyncio.Task[None]] = set()
        self._unwanted: dict[tuple[str, str, str], None] = {}  # answers refused lately (oldest first)
        endpoint.on_request = self._request
        endpoint.on_ack = self._ack
        endpoint.on_stray_response = self._stray

    def contact(self, protocol: str = "UDP") -> str:
        transport = "" if protocol.upper() == "UDP" else f";transport={protocol.lower()}"
        return f"<sip:{self.user}@{self.endpoint.host}:{self.endpoint.port}{transport}>"

    def _spawn(self, work: Awaitable[None]) -> None:
        async def run() -> None:
            try:
                await work
            except Exception:
                log.exception("user agent task failed")

        task = asyncio.get_running_loop().create_task(run())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # UAC --------------------------------------------------------------------------------------
    async def call(
        self,
        target: str,
        peer: Address,
        *,
        body: bytes = b"",
        protocol: str = "UDP",
        from_uri: str | None = None,
        from_name: str | None = None,
        content_type: str = "application/sdp",
        on_provisional: Callable[[Response], None] | None = None,
        cancel: asyncio.Event | None = None,
        extra: dict[str, str] | None = None,
    ) -> Dialog:
        """Send an INVITE; return the confirmed dialog on 2xx, raise CallFailed otherwise. Setting
        ``cancel`` sends a CANCEL (once a provisional response came, RFC 3261 9.1); the INVITE then
        ends with 487 unless the answer crossed it. ``from_name`` is the display name the phone shows,
        ``extra`` more headers (``Answer-Mode: Auto``, RFC 5373)."""
        local = NameAddr(
            parse_uri(from_uri or f"sip:{self.user}@{self.endpoint.host}"), from_name, {"tag": new_tag()}
        )
        headers = Headers()
        headers.add("Max-Forwards", "70")
        headers.add("From", str(local))
        headers.add("To", f"<{target}>")
        headers.add("Call-ID", f"{os.urandom(10).hex()}@{self.endpoint.host}")
        headers.add("CSeq", "1 INVITE")
        headers.add("Contact", self.contact(protocol))
        headers.add("Allow", ALLOW)
        for name, value in (extra or {}).items():
            headers.add(name, value)
        if body:
            headers.add("Content-Type", content_type)
        invite = Request(method="INVITE", uri=parse_uri(target), headers=headers, body=body)
        provisional = asyncio.Event()

        def provisional_seen(response: Response) -> None:
            provisional.set()
            if on_provisional is not None:
                on_provisional(response)

        tx = self.endpoint.send_request(invite, peer, protocol, provisional_seen)
        if cancel is not None:
            self._spawn(self._cancel_when(cancel, provisional, tx, peer, protocol))
        response = await tx.final
        if response.status >= 300:
            raise CallFailed(response)
        contacts = response.contacts
        dialog = Dialog(
            self,
            call_id=invite.call_id,
            local=local,
            remote=response.to,
            remote_target=contacts[0].uri if contacts else invite.uri,
            route_set=list(reversed(response.headers.values("Record-Route"))),
            local_seq=1,
            remote_seq=None,
            protocol=protocol,
            state=DialogState.EARLY,
        )
        dialog.answered = response
        self.dialogs[dialog.key] = dialog
        await self.send_ack(dialog, response)
        dialog._set_state(DialogState.CONFIRMED)
        return dialog

    async def _cancel_when(
        self,
        cancel: asyncio.Event,
        provisional: asyncio.Event,
        tx: ClientTransaction,
        peer: Address,
        protocol: str,
    ) -> None:
        waiting: asyncio.Future[Any] = asyncio.ensure_future(cancel.wait())
        futures: list[asyncio.Future[Any]] = [waiting, tx.final]
        done, _ = await asyncio.wait(futures, return_when=asyncio.FIRST_COMPLETED)
        if waiting not in done:
            waiting.cancel()
            return
        await provisional.wait()
        if tx.final.done():
            return
        invite = tx.request
        request = same_transaction_request(invite, "CANCEL", invite.headers.get("To") or "")
        self.endpoint.send_request(request, peer, protocol, keep_via=True)

    async def send_ack(self, dialog: Dialog, response: Response) -> None:
        ack = dialog.build("ACK")
        ack.headers.set("CSeq", f"{response.cseq.number} ACK")
        ack.headers.remove("Contact")
        ack.headers.add("Via", self.endpoint.via(dialog.protocol, new_branch()), first=True)
        dialog.ack = ack
        await self.endpoint.send_stateless(ack, dialog.next_hop, dialog.protocol)

    def _stray(self, response: Response, incoming: Incoming) -> None:
        if response.cseq.method != "INVITE" or not 200 <= response.status < 300:
            return
        key = (response.call_id, response.from_.tag or "", response.to.tag or "")
        dialog = self.dialogs.get(key)
        if dialog is not None and dialog.ack is not None:  # our ACK was lost: the 2xx came again
            self._spawn(self.endpoint.send_stateless(dialog.ack, dialog.next_hop, dialog.protocol))
        elif dialog is None and key not in self._unwanted:
            self._unwanted[key] = None
            while len(self._unwanted) > 1024:
                del self._unwanted[next(iter(self._unwanted))]
            self._spawn(self._refuse_answer(response, incoming.transport.protocol))

    async def _refuse_answer(self, response: Response, protocol: str) -> None:
        """A 2xx to an INVITE nobody here sent (the previous active of a pair sent it, or it is long
        forgotten): ACK it, then BYE, so the far end does not hold a call nobody hears (RFC 3261
        13.2.2.4)."""
        self.endpoint.stats["unwanted-answers"] += 1
        contacts = response.contacts
        if not contacts:
            return
        dialog = Dialog(
            self,
            call_id=response.call_id,
            local=response.from_,
            remote=response.to,
            remote_target=contacts[0].uri,
            route_set=list(reversed(response.headers.values("Record-Route"))),
            local_seq=response.cseq.number,
            remote_seq=None,
            protocol=protocol,
            state=DialogState.CONFIRMED,
        )
        await self.send_ack(dialog, response)
        try:
            await dialog.bye()
        except SipError as exc:
            log.info("dialog %s: BYE after an unwanted answer: %s", dialog.call_id, exc.message)

    def forget(self) -> None:
        """Drop every dialog and task without a word to the far ends (a standby hands its calls to
        the new active, which has them from Redis)."""
        self.dialogs.clear()
        for task in list(self._tasks):
            task.cancel()

    # UAS --------------------------------------------------------------------------------------
    def uas_dialog(self, invite: Request, response: Response, protocol: str) -> Dialog:
        contacts = invite.contacts
        dialog = Dialog(
            self,
            call_id=invite.call_id,
            local=response.to,
            remote=invite.from_,
            remote_target=contacts[0].uri if contacts else invite.from_.uri,
            route_set=invite.headers.values("Record-Route"),
            local_seq=0,
            remote_seq=invite.cseq.number,
            protocol=protocol,
            state=DialogState.EARLY,
        )
        self.dialogs[dialog.key] = dialog
        return dialog

    def retransmit_2xx(self, dialog: Dialog, peer: Address) -> None:
        """RFC 3261 13.3.1.4: send the 2xx again (T1 doubling to T2) until the ACK; BYE after 64*T1."""
        timers = self.endpoint.timers

        async def loop() -> None:
            interval = timers.t1
            elapsed = 0.0
            while elapsed < timers.b:
                try:
                    await asyncio.wait_for(dialog.acked.wait(), interval)
                    return
                except TimeoutError:
                    elapsed += interval
                if dialog.answer is None or dialog.state is DialogState.TERMINATED:
                    return
                if not self.endpoint.transport(dialog.protocol).reliable:
                    await self.endpoint.send_stateless(dialog.answer, peer, dialog.protocol)
                    self.endpoint.stats["2xx-retransmissions"] += 1
                interval = min(interval * 2, timers.t2)
            log.info("dialog %s: no ACK for 2xx; ending it", dialog.call_id)
            dialog._set_state(DialogState.CONFIRMED)
            try:
                await dialog.bye()
            except SipError as exc:
                log.info("dialog %s: BYE after the missing ACK: %s", dialog.call_id, exc.message)

        self._spawn(loop())

    def _ack(self, request: Request, incoming: Incoming) -> None:
        dialog = self.dialogs.get((request.call_id, request.to.tag or "", request.from_.tag or ""))
        if dialog is None:
            self.endpoint.stats["stray-acks"] += 1
            return
        dialog.acked.set()
        if dialog.state is DialogState.EARLY:
            dialog._set_state(DialogState.CONFIRMED)

    def _request(self, tx: ServerTransaction) -> None:
        request = tx.request
        to_tag = request.to.tag
        if to_tag is not None:
            self._in_dialog(tx, to_tag)
        elif request.method == "INVITE":
            call = IncomingCall(self, tx)
            if self.on_invite is None:
                call.reject(480, "Temporarily Unavailable")
            else:
                call.ring(100, "Trying")
                self._spawn(self.on_invite(call))
        elif request.method == "OPTIONS":
            response = response_to(request, 200, "OK", to_tag=new_tag())
            response.headers.add("Allow", ALLOW)
            tx.respond(response)
        elif request.method in ("BYE", "INFO", "UPDATE", "NOTIFY", "REFER", "PRACK"):
            tx.respond(response_to(request, 481, "Call/Transaction Does Not Exist", to_tag=new_tag()))
        elif self.on_other is not None:
            self._spawn(self.on_other(tx))
        else:
            self.reject_other(tx)

    def reject_other(self, tx: ServerTransaction) -> None:
        """501 with ``Allow`` for a method nobody here takes."""
        response = response_to(tx.request, 501, "Not Implemented", to_tag=new_tag())
        response.headers.add("Allow", ALLOW)
        tx.respond(response)

    def _in_dialog(self, tx: ServerTransaction, to_tag: str) -> None:
        request = tx.request
        dialog = self.dialogs.get((request.call_id, to_tag, request.from_.tag or ""))
        if dialog is None:
            tx.respond(response_to(request, 481, "Call/Transaction Does Not Exist"))
            return
        number = request.cseq.number
        if dialog.remote_seq is not None and number <= dialog.remote_seq:
            tx.respond(response_to(request, 500, "Server Internal Error"))  # out of order (RFC 3261 12.2.2)
            return
        dialog.remote_seq = number
        contacts = request.contacts
        if request.method in ("INVITE", "UPDATE") and contacts:
            dialog.remote_target = contacts[0].uri  # target refresh
        if self.on_request is not None and request.method not in ("BYE",):
            self._spawn(self.on_request(dialog, tx))
            return
        if request.method == "BYE":
            tx.respond(response_to(request, 200, "OK"))
            if dialog.state is not DialogState.TERMINATED:
                dialog._set_state(DialogState.TERMINATED)
        elif request.method == "INVITE":  # a re-INVITE without an application hook: keep the session
            response = response_to(request, 200, "OK")
            response.headers.add("Contact", self.contact(dialog.protocol))
            if dialog.answer is not None and dialog.answer.body:
                response.headers.add("Content-Type", dialog.answer.content_type or "application/sdp")
                response.body = dialog.answer.body
            tx.respond(response)
        elif request.method in _IN_DIALOG_OK:
            tx.respond(response_to(request, 200, "OK"))
        elif request.method == "REFER":
            tx.respond(response_to(request, 202, "Accepted"))
        else:
            response = response_to(request, 501, "Not Implemented")
            response.headers.add("Allow", ALLOW)
            tx.respond(response)

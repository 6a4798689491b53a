"""The registrar: REGISTER with digest authentication against auth's SIP credentials (RFC 3261
section 10, RFC 8760), bindings in Redis, OPTIONS keep-alive that drops phones which stopped answering.

Challenges are offered for every configured algorithm, preferred first; nonces are stateless (signed
timestamps), so any instance verifies them. A wrong password gets 403 and is counted.

A browser may instead present the person's access token (``Authorization: Bearer``, RFC 8898; JsSIP's
``authorization_jwt``): the operator client never holds a SIP password. The token must be valid and
the person's own login the registered user; the binding lasts no longer than the token (the client
registers again with its renewed token). A bad or expired token gets 401 with ``WWW-Authenticate:
Bearer error="invalid_token"``, someone else's login 403.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Callable

from redis.exceptions import RedisError

from callisto_call_manager.bindings import Binding, Bindings
from callisto_call_manager.notifier import Notifier
from callisto_protocol.auth import GetSipCredentials, SipCredentials
from callisto_runtime import Bus, CallistoError
from callisto_runtime.tokens import TokenVerifier
from callisto_sip import websocket
from callisto_sip.auth import Credentials, DigestAuthenticator, Verdict
from callisto_sip.endpoint import Endpoint, new_branch, new_tag, response_to
from callisto_sip.errors import ParseError, SipError
from callisto_sip.headers import Headers
from callisto_sip.message import Request
from callisto_sip.transaction import ServerTransaction
from callisto_sip.uri import SipUri, parse_uri

log = logging.getLogger(__name__)
DEFAULT_EXPIRES_S = 3600
CREDENTIALS_TTL_S = 30.0


class CredentialCache:
    """SIP credentials from auth over the bus, kept briefly (a phone re-registers every few minutes)."""

    def __init__(self, bus: Bus) -> None:
        self.bus = bus
        self._cache: dict[str, tuple[float, SipCredentials | None]] = {}

    async def get(self, username: str) -> SipCredentials | None:
        now = time.monotonic()
        cached = self._cache.get(username)
        if cached is not None and cached[0] > now:
            return cached[1]
        try:
            found: SipCredentials | None = await self.bus.call(
                GetSipCredentials(username=username), SipCredentials
            )
        except CallistoError as exc:
            if exc.error_id != "unknown-sip-user":
                raise  # auth unreachable: the phone gets 503, not a false "forbidden"
            found = None
        self._cache[username] = (now + CREDENTIALS_TTL_S, found)
        if len(self._cache) > 100_000:
            self._cache.clear()
        return found


class Registrar:
    def __init__(
        self,
        endpoint: Endpoint,
        bindings: Bindings,
        credentials: CredentialCache,
        notifier: Notifier,
        *,
        realm: str,
        secret: bytes,
        algorithms: list[str],
        min_expires_s: int,
        max_expires_s: int,
        browser_algorithms: tuple[str, ...] = ("MD5",),
        tokens: TokenVerifier | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.endpoint = endpoint
        self.bindings = bindings
        self.credentials = credentials
        self.notifier = notifier
        self.authenticators = [DigestAuthenticator(realm, secret, algorithm=a) for a in algorithms]
        self.min_expires_s = min_expires_s
        self.max_expires_s = max_expires_s
        self.browser_algorithms = tuple(a.upper() for a in browser_algorithms)
        self.tokens = tokens
        self.realm = realm
        self.clock = clock
        self.stats: Counter[str] = Counter()
        self._tasks: set[asyncio.Task[None]] = set()

    def _respond(
        self, tx: ServerTransaction, status: int, reason: str, headers: Headers | None = None
    ) -> None:
        response = response_to(tx.request, status, reason, to_tag=new_tag())
        for name, value in headers or Headers():
            response.headers.add(name, value)
        tx.respond(response)
        self.stats[f"register:{status}"] += 1

    def _challenge(self, tx: ServerTransaction, *, stale: bool = False) -> None:
        headers = Headers()
        browser = tx.transport.protocol in websocket.PROTOCOLS
        for authenticator in self.authenticators:
            if browser and authenticator.algorithm not in self.browser_algorithms:
                continue
            headers.add("WWW-Authenticate", str(authenticator.challenge(stale=stale)))
        self._respond(tx, 401, "Unauthorized", headers)

    async def handle(self, tx: ServerTransaction) -> None:
        request = tx.request
        try:
            await self._register(tx, request)
        except ParseError as exc:
            self._respond(tx, 400, f"Bad Request ({exc.error_id})")
        except CallistoError as exc:
            log.warning("REGISTER from %s: %s", tx.peer, exc.message)
            self._respond(tx, 503, "Service Unavailable")

    async def _register(self, tx: ServerTransaction, request: Request) -> None:
        to_uri = request.to.uri
        if not isinstance(to_uri, SipUri) or not to_uri.user:
            self._respond(tx, 404, "Not Found")
            return
        username = to_uri.user
        authorization = request.headers.get("Authorization")
        if authorization is None:
            self._challenge(tx)
            return
        if authorization[:7].lower() == "bearer ":
            await self._bearer(tx, request, username, authorization[7:].strip())
            return
        credentials = Credentials.parse(authorization)
        authenticator = next(
            (a for a in self.authenticators if a.algorithm == credentials.algorithm.upper()), None
        )
        if authenticator is None or credentials.username != username:
            self._respond(tx, 403, "Forbidden")
            return
        known = await self.credentials.get(username)
        stored = None
        if known is not None and known.realm == authenticator.realm:
            stored = known.ha1_sha256 if authenticator.algorithm == "SHA-256" else known.ha1_md5
        verdict = authenticator.verify(request.method, authorization, stored)
        if verdict is Verdict.STALE:
            self._challenge(tx, stale=True)
            return
        if verdict is not Verdict.OK or known is None:
            self.stats["auth-failures"] += 1
            self._respond(tx, 403, "Forbidden")
            return
        await self._update(tx, request, username, known.agent_id)

    async def _bearer(self, tx: ServerTransaction, request: Request, username: str, token: str) -> None:
        """A browser registering with the person's access token."""
        if self.tokens is None or tx.transport.protocol not in websocket.PROTOCOLS:
            self._respond(tx, 403, "Forbidden (a token is taken from browsers only)")
            return
        try:
            claims = await self.tokens.verify(token)
        except CallistoError as exc:
            if exc.status != 401:
                raise  # the key set is unreachable: 503, not a false refusal
            self.stats["auth-failures"] += 1
            headers = Headers()
            headers.add("WWW-Authenticate", f'Bearer realm="{self.realm}", error="invalid_token"')
            self._respond(tx, 401, "Unauthorized", headers)
            return
        if not claims.login or claims.login != username:
            self.stats["auth-failures"] += 1
            self._respond(tx, 403, "Forbidden (the token is someone else's)")
            return
        await self._update(tx, request, username, claims.agent_id, until=float(claims.expires_at))

    async def _update(
        self, tx: ServerTransaction, request: Request, username: str, agent_id: str | None,
        *, until: float | None = None,
    ) -> None:  # fmt: skip
        """Apply the REGISTER's contacts; ``until``: no binding lasts beyond (a token's expiry)."""
        now = self.clock()
        before = {b.contact for b in await self.bindings.of(username, now)}
        header_expires = request.headers.get("Expires")
        default = int(header_expires) if header_expires and header_expires.isdigit() else DEFAULT_EXPIRES_S
        if any(v.strip() == "*" for v in request.headers.values("Contact")):
            if default != 0 or len(request.headers.values("Contact")) != 1:
                self._respond(tx, 400, "Bad Request (wildcard needs Expires: 0 alone)")
                return
            await self.bindings.remove(username)
        for contact in request.contacts:
            raw = contact.params.get("expires")
            expires = int(raw) if raw is not None and raw.isdigit() else default
            if 0 < expires < self.min_expires_s:
                headers = Headers()
                headers.add("Min-Expires", str(self.min_expires_s))
                self._respond(tx, 423, "Interval Too Brief", headers)
                return
            if expires == 0:
                await self.bindings.remove(username, str(contact.uri))
                continue
            await self.bindings.save(
                Binding(
                    username=username,
                    contact=str(contact.uri),
                    expires_at=min(now + min(expires, self.max_expires_s), until or float("inf")),
                    source_host=tx.peer[0],
                    source_port=tx.peer[1],
                    protocol=tx.transport.protocol,
                    agent_id=agent_id,
                )
            )
        current = await self.bindings.of(username, now)
        headers = Headers()
        for binding in current:
            headers.add("Contact", f"<{binding.contact}>;expires={max(0, int(binding.expires_at - now))}")
        self._respond(tx, 200, "OK", headers)
        after = {b.contact for b in current}
        if agent_id and after != before:
            reason = "register" if after else "unregister"
            await self.notifier.registration(agent_id, username, sorted(after), reason)

    # browsers --------------------------------------------------------------------------------------
    def flow_closed(self, hosts: set[str]) -> None:
        """A browser's WebSocket closed: the bindings it made on it go at once (it cannot be reached
        any more; it registers again when it reconnects)."""
        task = asyncio.get_running_loop().create_task(self._drop_flows(hosts))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _drop_flows(self, hosts: set[str]) -> None:
        try:  # the bindings this instance made or took over: no scan of Redis per closed connection
            for binding in self.bindings.alive(self.clock()):
                uri = parse_uri(binding.contact)
                if binding.browser and isinstance(uri, SipUri) and uri.host.lower() in hosts:
                    self.stats["flow-closed"] += 1
                    await self.bindings.remove(binding.username, binding.contact)
                    if binding.agent_id and not await self.bindings.of(binding.username):
                        await self.notifier.registration(
                            binding.agent_id, binding.username, [], "disconnected"
                        )
        except (CallistoError, RedisError, OSError) as exc:  # Redis away, or this instance is not active
            log.info("dropping the bindings of closed WebSocket connections: %r", exc)

    # keep-alive --------------------------------------------------------------------------------
    async def sweep(self) -> None:
        """OPTIONS to every registered phone; one that does not answer loses its binding."""
        bindings = await self.bindings.everyone()
        results = await asyncio.gather(*(self._alive(b) for b in bindings))
        for binding, alive in zip(bindings, results, strict=True):
            if not alive:
                self.stats["keepalive-lost"] += 1
                await self.bindings.remove(binding.username, binding.contact)
                if binding.agent_id and not await self.bindings.of(binding.username):
                    await self.notifier.registration(binding.agent_id, binding.username, [], "unreachable")

    async def _alive(self, binding: Binding) -> bool:
        headers = Headers()
        headers.add("Max-Forwards", "70")
        headers.add("From", f"<sip:callisto@{self.endpoint.host}>;tag={new_tag()}")
        headers.add("To", f"<{binding.contact}>")
        headers.add("Call-ID", f"{new_branch()[7:]}@{self.endpoint.host}")
        headers.add("CSeq", "1 OPTIONS")
        request = Request(method="OPTIONS", uri=parse_uri(binding.contact), headers=headers)
        try:
            tx = self.endpoint.send_request(request, binding.address, binding.protocol)
            response = await tx.final
        except SipError:
            return False
        return response.status < 500 or response.status == 503

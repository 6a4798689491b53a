"""call-manager: wiring of the service (SIP endpoint, registrar, switchboard, rtpengine, bus, HTTP)."""

from __future__ import annotations

import asyncio
import logging
import ssl
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from fastapi import FastAPI
from redis.asyncio import Redis

from callisto_call_manager import __version__, handlers
from callisto_call_manager.api import calls as calls_api
from callisto_call_manager.bindings import Bindings
from callisto_call_manager.calls import CallTable
from callisto_call_manager.consulting import Consults
from callisto_call_manager.contacts import CallerLookup
from callisto_call_manager.dialplan import DialPlan, body_of, load, summary
from callisto_call_manager.dtmf import DtmfReports
from callisto_call_manager.errors import ConfigError
from callisto_call_manager.listening import Listening
from callisto_call_manager.metrics import CallManagerCollector
from callisto_call_manager.notifier import Notifier
from callisto_call_manager.prompts import Prompts
from callisto_call_manager.queueing import Queueing
from callisto_call_manager.recording_room import RecordingRoom
from callisto_call_manager.registrar import CredentialCache, Registrar
from callisto_call_manager.rtpengine import MediaRelay
from callisto_call_manager.session import Sessions
from callisto_call_manager.settings import CallManagerSettings
from callisto_call_manager.state_guard import StateGuard
from callisto_call_manager.switchboard import Switchboard
from callisto_call_manager.takeover import adopt_all, take_over
from callisto_call_manager.tls import expires_at, self_signed, server_context
from callisto_runtime import Mode, Service
from callisto_runtime.fencing import FencedWriter
from callisto_runtime.periodic import periodic
from callisto_sip.endpoint import Endpoint
from callisto_sip.transaction import ServerTransaction, Timers
from callisto_sip.ua import UserAgent

log = logging.getLogger(__name__)
FENCE = "cm:fence"


@dataclass
class Parts:
    settings: CallManagerSettings
    endpoint: Endpoint
    relay: MediaRelay
    redis: Redis
    board: Switchboard
    registrar: Registrar
    dtmf: DtmfReports
    tasks: list[asyncio.Task[None]] = field(default_factory=list)

    @property
    def sip_port(self) -> int:
        return self.endpoint.port


def wss_certificate(settings: CallManagerSettings) -> tuple[Path, Path]:
    """The configured certificate and key; in development without them, a self-signed pair."""
    if settings.tls_cert_file is not None and settings.tls_key_file is not None:
        return settings.tls_cert_file, settings.tls_key_file
    if settings.mode is not Mode.DEVELOPMENT:
        raise ConfigError("SIP_WSS_PORT needs TLS_CERT_FILE and TLS_KEY_FILE outside development mode")
    return self_signed(settings.tls_dir, settings.sip_host)


def build(settings: CallManagerSettings | None = None) -> tuple[Service, Parts, FastAPI]:
    settings = settings or CallManagerSettings()
    # a singleton: only the lease holder binds the SIP port, takes commands and writes to Redis
    service = Service("call-manager", __version__, settings, singleton=True)
    plan = load(settings.initial_config())  # a bad file stops the start, loudly
    redis = Redis.from_url(settings.redis_url, socket_timeout=2.0)
    writer = FencedWriter(redis, FENCE, lambda: service.lease.token if service.lease is not None else None)
    notifier = Notifier(service.bus)
    bindings = Bindings(redis, writer)
    table = CallTable(redis, writer, notifier)
    guard = StateGuard(redis, table, bindings)
    t1 = settings.sip_t1_s
    endpoint = Endpoint(
        settings.sip_host, timers=Timers(t1=t1, t2=min(4.0, 8 * t1), t4=settings.sip_t4_s, d=64 * t1)
    )
    ua = UserAgent(endpoint, user="callisto")
    relay = MediaRelay(settings.rtpengine_host, settings.rtpengine_port)
    prompts = Prompts(settings.prompts_dir, plan.prompts)
    registrar = Registrar(
        endpoint, bindings, CredentialCache(service.bus), notifier,
        realm=settings.sip_realm, secret=settings.digest_secret(), algorithms=settings.digest_algorithms,
        min_expires_s=settings.min_expires_s, max_expires_s=settings.max_expires_s,
        browser_algorithms=tuple(settings.ws_digest_algorithms), tokens=service.verifier,
    )  # fmt: skip
    room = RecordingRoom()
    board = Switchboard(
        ua, relay, table, bindings, prompts, plan, notifier,
        ring_timeout_s=settings.ring_timeout_s, invite_rate_per_source=settings.invite_rate_per_source,
        media_host=settings.media_host, recording=settings.recording_policy(plan.recording), room=room,
    )  # fmt: skip
    board.active = False  # until the lease is held

    async def use_plan(new: DialPlan, version: int) -> None:
        """A new version of the dial plan (configuration store): prompts rendered first, then new calls
        follow it; a call already in a flow keeps the flow it started with."""
        await prompts.use(new.prompts)
        board.plan = new
        board.recording = settings.recording_policy(new.recording)

    config_file = settings.initial_config()
    service.configuration.own("dial-plan", DialPlan.model_validate, use_plan, lambda: body_of(config_file),
                              summary=summary)  # fmt: skip
    # an active that was frozen past its lease and wakes up sends nothing and changes no media before
    # it notices: SIP and rtpengine commands are held back as soon as the lease's time is up
    endpoint.may_send = relay.allowed = board.holds_lease = lambda: service.is_active
    listening = Listening(
        ua, relay, bindings, notifier, ring_timeout_s=settings.ring_timeout_s, media_host=settings.media_host
    )
    board.ended.append(listening.call_ended)
    board.agent_left.append(listening.agent_left)
    consults = Consults(
        ua, relay, bindings, board, ring_timeout_s=settings.ring_timeout_s, media_host=settings.media_host
    )
    board.ended.append(consults.call_ended)
    board.agent_left.append(consults.call_ended)
    queueing = Queueing(Sessions(board), service.bus)
    board.contacts = CallerLookup(service.bus)
    dtmf = DtmfReports(board.key_pressed)
    parts = Parts(settings, endpoint, relay, redis, board, registrar, dtmf)
    activation: list[asyncio.Task[None]] = []
    sip_port = settings.sip_port  # a port chosen by the system at the first bind is kept for later
    certificate = wss_certificate(settings) if settings.sip_wss_port else None
    tls = server_context(*certificate) if certificate else None  # a bad certificate stops the start
    counted = {"sip": endpoint.stats, "registrar": registrar.stats, "switchboard": board.stats,
             "rtpengine": relay.stats, "dtmf": dtmf.stats}  # fmt: skip
    expiry = expires_at(certificate[0]) if certificate else None
    service.metrics_registry.register(CallManagerCollector(board, counted, expiry))

    async def other_request(tx: ServerTransaction) -> None:
        if tx.request.method == "REGISTER":
            await registrar.handle(tx)
        else:
            ua.reject_other(tx)

    ua.on_other = other_request

    async def redis_ok() -> bool:
        try:
            return bool(await redis.ping())
        except Exception:
            return False

    service.add_check("redis", redis_ok)
    service.add_check("rtpengine", relay.ping)
    service.add_check("sip", lambda: endpoint.listening or not service.is_active)  # a standby binds later

    async def activate() -> None:
        """The lease is ours: take over the calls and registrations in Redis, then bind SIP."""
        nonlocal sip_port
        while True:
            try:
                found = await table.load()
                media = set(await relay.calls()) if found else set()
                await bindings.load()
                break
            except Exception as exc:  # Redis or rtpengine not there yet
                log.warning("reading live calls from Redis and rtpengine failed (%r); retrying", exc)
                await asyncio.sleep(1.0)
        board.active = True
        adopt_all(board, found)
        await guard.mark()
        await bound(f"SIP port {sip_port}", lambda: endpoint.start(sip_port))
        sip_port = endpoint.port
        if settings.dtmf_port:
            await bound(
                f"DTMF port {settings.dtmf_port}",
                lambda: dtmf.listen(settings.rtpengine_host, settings.dtmf_port),
            )
        for port, context in ((settings.sip_ws_port, None), (settings.sip_wss_port, tls)):
            if port:
                await bound(f"SIP WebSocket port {port}", partial(websocket, port, context))
        log.info("active: SIP on %s:%d (UDP and TCP)", settings.sip_host, endpoint.port)
        await take_over(board, found, media)
        parts.tasks.append(periodic(1.0, guard.check, "redis state guard"))
        if settings.keepalive_s:
            parts.tasks.append(periodic(settings.keepalive_s, registrar.sweep, "registration keep-alive"))

    async def websocket(port: int, context: ssl.SSLContext | None) -> None:
        transport = await endpoint.start_websocket(
            port, tls=context, max_per_source=settings.ws_connections_per_source,
            ping_interval_s=settings.ws_ping_s,
        )  # fmt: skip
        transport.on_flow_closed = registrar.flow_closed

    async def bound(what: str, listen: Callable[[], Awaitable[object]]) -> None:
        """On one host the previous active may hold a port a moment longer (it is stopping, or it is
        frozen): try until it is free (a listen that fails leaves nothing open)."""
        waited = False
        while True:
            try:
                await listen()
                return
            except OSError as exc:
                if not waited:
                    log.warning("%s is taken (%s); waiting for it", what, exc)
                    waited = True
                await asyncio.sleep(0.1)

    async def deactivate() -> None:
        """The lease is lost (or the service stops): let go of every call without ending any and
        free the SIP port for the new active."""
        for task in [*activation, *parts.tasks]:
            task.cancel()
        await asyncio.gather(*activation, *parts.tasks, return_exceptions=True)
        activation.clear()
        parts.tasks.clear()
        board.step_down()
        listening.forget()
        consults.forget()
        dtmf.close()
        await endpoint.close()

    async def role_changed(active: bool) -> None:
        if active:
            activation.append(asyncio.create_task(activate(), name="cm-activate"))
        else:
            await deactivate()
            log.info("standby: SIP port closed, calls left to the active instance")

    @service.on_startup
    async def startup() -> None:
        await prompts.render()
        await relay.start()
        await handlers.subscribe(service.bus, board, listening)
        await room.follow(service.bus)
        await queueing.start()
        service.on_role_change(role_changed)

    @service.on_shutdown
    async def shutdown() -> None:
        await deactivate()
        await relay.close()
        await redis.aclose()

    service.include_router(calls_api.router(service, board, bindings, listening, consults), active_only=True)
    return service, parts, service.create_app()

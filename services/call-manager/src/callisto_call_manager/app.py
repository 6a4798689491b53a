"""call-manager: wiring of the service (SIP endpoint, registrar, switchboard, rtpengine, bus, HTTP)."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field

from fastapi import FastAPI
from redis.asyncio import Redis

from callisto_call_manager import __version__, handlers
from callisto_call_manager.api import calls as calls_api
from callisto_call_manager.bindings import Bindings
from callisto_call_manager.calls import CallTable
from callisto_call_manager.contacts import CallerLookup
from callisto_call_manager.dialplan import load
from callisto_call_manager.dtmf import DtmfReports
from callisto_call_manager.notifier import Notifier
from callisto_call_manager.prompts import Prompts
from callisto_call_manager.queueing import Queueing
from callisto_call_manager.registrar import CredentialCache, Registrar
from callisto_call_manager.rtpengine import MediaRelay
from callisto_call_manager.settings import CallManagerSettings
from callisto_call_manager.state_guard import StateGuard
from callisto_call_manager.switchboard import Switchboard
from callisto_protocol.calls import EndedBy
from callisto_runtime import Service
from callisto_runtime.periodic import periodic
from callisto_sip.endpoint import Endpoint
from callisto_sip.transaction import ServerTransaction, Timers
from callisto_sip.ua import UserAgent

log = logging.getLogger(__name__)


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


def build(settings: CallManagerSettings | None = None) -> tuple[Service, Parts, FastAPI]:
    settings = settings or CallManagerSettings()
    service = Service("call-manager", __version__, settings)
    plan = load(settings.initial_config())  # a bad file stops the start, loudly
    redis = Redis.from_url(settings.redis_url, socket_timeout=2.0)
    notifier = Notifier(service.bus)
    bindings = Bindings(redis)
    table = CallTable(redis, notifier)
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
    )  # fmt: skip
    board = Switchboard(
        ua, relay, table, bindings, prompts, plan, notifier,
        ring_timeout_s=settings.ring_timeout_s, invite_rate_per_source=settings.invite_rate_per_source,
        media_host=settings.media_host,
    )  # fmt: skip
    queueing = Queueing(board, service.bus)
    board.contacts = CallerLookup(service.bus)
    dtmf = DtmfReports(board.key_pressed)
    parts = Parts(settings, endpoint, relay, redis, board, registrar, dtmf)

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

    @service.on_startup
    async def startup() -> None:
        await prompts.render()
        await relay.start()
        if settings.dtmf_port:
            await dtmf.listen(settings.rtpengine_host, settings.dtmf_port)
        await handlers.subscribe(service.bus, board)
        await queueing.start()
        await recover()
        await bindings.load()
        await guard.mark()
        parts.tasks.append(periodic(1.0, guard.check, "redis state guard"))
        await endpoint.start(settings.sip_port)
        if settings.keepalive_s:
            parts.tasks.append(periodic(settings.keepalive_s, registrar.sweep, "registration keep-alive"))
        log.info("SIP on %s:%d (UDP and TCP)", settings.sip_host, endpoint.port)

    async def recover() -> None:
        """Calls of a previous run: keep those rtpengine still relays, end the others."""
        while True:
            try:
                found = await table.load()
                break
            except Exception as exc:
                log.warning("reading live calls from Redis failed (%r); retrying", exc)
                await asyncio.sleep(1.0)
        media = set(await relay.calls()) if found else set()
        for call in found:
            board.adopt(call)
            if call.id not in media or call.caller_leg is None:
                await board.hangup(call, EndedBy.SYSTEM, 500)
        if found:
            log.info("recovered %d live calls", len(board.table.calls))

    @service.on_shutdown
    async def shutdown() -> None:
        for task in parts.tasks:
            task.cancel()
        await asyncio.gather(*parts.tasks, return_exceptions=True)
        dtmf.close()
        await endpoint.close()
        await relay.close()
        await redis.aclose()

    service.include_router(calls_api.router(service, board, bindings))
    return service, parts, service.create_app()

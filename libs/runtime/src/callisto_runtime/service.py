"""The service skeleton every Callisto service is built on.

``Service`` owns the bus connection, the registry heartbeat, readiness checks, the optional leader
lease of a singleton, draining and shutdown. ``Service.create_app()`` gives the FastAPI app with
``/healthz``, ``/readyz``, ``/metrics`` and ``/docs``; ``run()`` serves it with uvicorn, which turns
SIGTERM into a graceful shutdown: stop taking work, deliver the outbox, drain NATS, exit.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import uvicorn
from fastapi import APIRouter, Depends, FastAPI, Response
from fastapi.responses import JSONResponse, PlainTextResponse
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Gauge, generate_latest
from pydantic import BaseModel, Field

from callisto_protocol import Envelope
from callisto_protocol.auth import GetJwks, Jwks
from callisto_protocol.control import DrainInstance, DrainStarted
from callisto_protocol.registry import InstanceRole, ServiceHeartbeat
from callisto_protocol.streams import LEASES_BUCKET
from callisto_runtime import dead_letters, problems
from callisto_runtime.body_limit import BodyLimitMiddleware
from callisto_runtime.bus import Bus
from callisto_runtime.configuration import Configuration
from callisto_runtime.errors import CallistoError, NotActive
from callisto_runtime.identity import ServiceIdentity
from callisto_runtime.input_hygiene import InputHygieneMiddleware
from callisto_runtime.kv import Bucket, open_generation
from callisto_runtime.lease import LeaderLease
from callisto_runtime.logs import setup_logging
from callisto_runtime.metrics import BusMetrics
from callisto_runtime.periodic import periodic
from callisto_runtime.settings import ServiceSettings
from callisto_runtime.tokens import Claims, TokenVerifier, authenticated, require

log = logging.getLogger(__name__)

Check = Callable[[], Awaitable[bool] | bool]
Hook = Callable[[], Awaitable[None]]
RoleHook = Callable[[bool], Awaitable[None]]
CHECK_TIMEOUT_S = 1.0


class NotSingleton(CallistoError):
    status = 409
    error_id = "not-a-singleton"


class HandedOver(BaseModel):
    service: str
    instance: str
    was_active: bool
    hold_off_s: float = Field(description="this instance leaves the lease to the others this long")


class Liveness(BaseModel):
    status: str
    service: str
    instance: str


class Readiness(BaseModel):
    status: str  # ready, not-ready, draining
    role: InstanceRole
    checks: dict[str, bool]
    failures: dict[str, str]  # background work that failed, with the reason
    service: str
    instance: str


class Service:
    def __init__(
        self, name: str, version: str, settings: ServiceSettings, *, singleton: bool = False
    ) -> None:
        self.name = name
        self.version = version
        self.settings = settings
        self.instance = settings.instance_id
        self.singleton = singleton
        self.metrics_registry = CollectorRegistry()
        self.bus = Bus(
            name, self.instance, BusMetrics(self.metrics_registry), outbox_limit=settings.outbox_limit
        )
        # tokens are verified locally against auth's keys, fetched over the bus when a new key appears
        self.verifier = TokenVerifier(
            issuer=settings.token_issuer, audience=settings.token_audience, fetch=self._fetch_jwks
        )
        self.bus.verifier = self.verifier
        self.bus.active = not singleton  # a singleton takes work only once it holds its lease
        self.bus.leader_now = lambda: self.is_active
        self.bus.consumer_max_failures = settings.consumer_max_failures
        self.bus.consumer_retry_delay_s = settings.consumer_retry_delay_s
        secret = settings.secret()
        self.identity = ServiceIdentity(self.bus, name, secret) if secret is not None else None
        if self.identity is not None:
            self.bus.token_source = self.identity.token
        self.lease: LeaderLease | None = None
        self.draining = False
        self.started_at = datetime.now(UTC)
        self.http_url = settings.advertised_url(settings.http_port)
        self._checks: dict[str, Check] = {"nats": lambda: self.bus.connected}
        self._startup: list[Hook] = []
        self._shutdown: list[Hook] = []
        self._drain: list[Hook] = []
        self._role: list[RoleHook] = []
        self._routers: list[tuple[APIRouter, bool]] = []
        self._tasks: list[asyncio.Task[None]] = []
        self.failures: dict[str, str] = {}  # background work that failed: name -> reason
        self.configuration = Configuration(self, self.metrics_registry)  # documents it owns in cc_config
        self._ready_gauge = Gauge(
            "callisto_service_ready", "1 when the instance is ready.", registry=self.metrics_registry
        )
        self._check_gauge = Gauge(
            "callisto_service_check",
            "1 while a readiness check passes (nats, postgres, redis, rtpengine ...), as of the last check.",
            ["check"],
            registry=self.metrics_registry,
        )
        self._leader_gauge = Gauge(
            "callisto_service_leader",
            "1 while this instance holds its lease (always 1 for services that are not singletons).",
            registry=self.metrics_registry,
        )
        info = Gauge(
            "callisto_service_info",
            "Static facts about the instance.",
            ["service", "instance", "version"],
            registry=self.metrics_registry,
        )
        info.labels(service=name, instance=self.instance, version=version).set(1)

    # wiring -----------------------------------------------------------------------------------
    def add_check(self, name: str, check: Check) -> None:
        self._checks[name] = check

    def on_startup(self, hook: Hook) -> Hook:
        self._startup.append(hook)
        return hook

    def on_shutdown(self, hook: Hook) -> Hook:
        self._shutdown.append(hook)
        return hook

    def on_drain(self, hook: Hook) -> Hook:
        self._drain.append(hook)
        return hook

    def on_role_change(self, hook: RoleHook) -> RoleHook:
        """``hook(active)`` when a singleton becomes active (True) or standby (False)."""
        self._role.append(hook)
        return hook

    def background(self, name: str, work: Callable[[], Awaitable[None]]) -> asyncio.Task[None]:
        """Run ``work`` as a task the service owns: cancelled at shutdown; when it fails, the reason is
        logged and the instance is not ready (``/readyz`` names the task and the reason)."""

        async def owned() -> None:
            try:
                await work()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self.failures[name] = f"{type(exc).__name__}: {exc}"[:500]
                log.exception("background work %s failed; the instance is not ready", name)

        task = asyncio.create_task(owned(), name=name)
        self._tasks.append(task)
        return task

    def include_router(self, router: APIRouter, *, active_only: bool = False) -> None:
        """Serve ``router``'s routes; ``active_only``: a standby answers them 503 ``standby``, naming
        the active instance (a singleton's state lives in the active one)."""
        self._routers.append((router, active_only))

    def require(self, permission: str) -> Any:
        """A route dependency: a valid bearer token granting ``permission`` (placeholders from the
        path), e.g. ``claims: Claims = service.require("core-bus.services.read")``."""
        return Depends(require(self.verifier, permission))

    def authenticated(self) -> Any:
        """A route dependency: a valid bearer token; the route itself decides what its claims allow."""
        return Depends(authenticated(self.verifier))

    async def _active_only(self) -> None:
        if self.is_active:
            return
        holder = await self.lease.current_holder() if self.lease is not None else None
        raise NotActive(
            f"this {self.name} instance is standby; the active one serves this",
            {"active_instance": holder, "instance": self.instance},
        )

    async def _fetch_jwks(self) -> dict[str, Any]:
        reply = await self.bus.call(GetJwks(), Jwks, anonymous=True)
        return {"keys": reply.keys}

    # state ------------------------------------------------------------------------------------
    @property
    def is_active(self) -> bool:
        if not self.singleton:
            return True
        return self.lease is not None and self.lease.is_leader

    @property
    def role(self) -> InstanceRole:
        return InstanceRole.ACTIVE if self.is_active else InstanceRole.STANDBY

    async def readiness(self) -> tuple[bool, dict[str, bool]]:
        results: dict[str, bool] = {}
        for name, check in self._checks.items():
            try:
                outcome = check()
                if inspect.isawaitable(outcome):
                    outcome = await asyncio.wait_for(outcome, CHECK_TIMEOUT_S)
                results[name] = bool(outcome)
            except Exception:
                results[name] = False
        for name in self.failures:
            results[f"task:{name}"] = False
        ready = all(results.values()) and not self.draining
        for name, passed in results.items():
            self._check_gauge.labels(check=name).set(1 if passed else 0)
        self._ready_gauge.set(1 if ready else 0)
        self._leader_gauge.set(1 if self.is_active else 0)
        return ready, results

    async def heartbeat(self) -> ServiceHeartbeat:
        ready, checks = await self.readiness()
        return ServiceHeartbeat(
            service=self.name,
            instance=self.instance,
            version=self.version,
            host=socket.gethostname(),
            http_url=self.http_url,
            role=self.role,
            ready=ready,
            draining=self.draining,
            checks=checks,
            started_at=self.started_at,
            interval_s=self.settings.heartbeat_interval_s,
        )

    # life -------------------------------------------------------------------------------------
    async def start(self) -> None:
        await self.bus.serve(
            DrainInstance,
            self._on_drain_command,
            permission="{service}.instance.drain",
            queue="",
            takes_work=False,
            service=self.name,
            instance=self.instance,
        )
        if self.singleton:
            self.bus.on_connect(self._start_lease)
        self.bus.on_connect(self._beat_once)
        for hook in self._startup:
            await hook()
        await self.configuration.start()
        password = self.settings.nats_password
        await self.bus.start(self.settings.nats_url, password.get_secret_value() if password else None)
        self._tasks.append(periodic(self.settings.heartbeat_interval_s, self._beat_once, "heartbeat"))
        log.info("%s %s started", self.name, self.instance, extra={"http_url": self.http_url})

    async def stop(self) -> None:
        """Stop taking work, tell the registry, run shutdown hooks, deliver events, close."""
        await self.drain("shutdown")
        await self._beat_once()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.configuration.stop()
        for hook in reversed(self._shutdown):
            try:
                await hook()
            except Exception:
                log.exception("shutdown hook failed")
        if self.lease is not None:
            await self.lease.stop(release=True)
        await self.bus.close(flush_timeout=self.settings.drain_timeout_s)
        log.info("%s %s stopped", self.name, self.instance)

    async def drain(self, reason: str) -> bool:
        """Stop taking new work; returns False when the instance was already draining."""
        if self.draining:
            return False
        self.draining = True
        log.info("draining: %s", reason)
        await self.bus.drain_work()
        for hook in self._drain:
            try:
                await hook()
            except Exception:
                log.exception("drain hook failed")
        await self._beat_once()
        return True

    async def _on_drain_command(self, command: DrainInstance, env: Envelope) -> DrainStarted:
        started = await self.drain(command.reason or f"asked by {env.origin_service}")
        return DrainStarted(service=self.name, instance=self.instance, already_draining=not started)

    async def _start_lease(self) -> None:
        if self.lease is not None:
            return
        ttl_s = self.settings.lease_ttl_s

        async def reopen() -> Bucket:
            return await open_generation(self.bus.nc, LEASES_BUCKET, ttl_s=ttl_s)

        bucket = await reopen()
        gate = self.settings.lease_gate
        self.lease = LeaderLease(
            bucket.kv, self.name, self.instance, ttl_s=ttl_s, reopen=reopen,
            eligible=gate.exists if gate is not None else lambda: True,
        )  # fmt: skip
        self.lease.adopt(bucket)  # its generation, and its own TTL should another instance have made it
        self.lease.on_change(self._role_changed)
        self.lease.start()

    async def _role_changed(self, active: bool) -> None:
        self._leader_gauge.set(1 if active else 0)
        await self.bus.set_active(active)
        for hook in self._role:
            try:
                await hook(active)
            except Exception:
                log.exception("role hook failed")
        await self._beat_once()

    async def _beat_once(self) -> None:
        if self.bus.connected:
            await self.bus.publish(await self.heartbeat())

    # HTTP -------------------------------------------------------------------------------------
    def create_app(self, **fastapi_args: Any) -> FastAPI:
        @asynccontextmanager
        async def lifespan(_: FastAPI) -> AsyncIterator[None]:
            await self.start()
            try:
                yield
            finally:
                await self.stop()

        app = FastAPI(title=f"Callisto {self.name}", version=self.version, lifespan=lifespan, **fastapi_args)
        app.add_middleware(InputHygieneMiddleware)
        app.add_middleware(BodyLimitMiddleware, max_bytes=self.settings.max_body_bytes)
        problems.install(app)

        @app.get("/healthz", tags=["operations"], summary="The process is alive")
        async def healthz() -> Liveness:
            return Liveness(status="alive", service=self.name, instance=self.instance)

        @app.get(
            "/readyz",
            tags=["operations"],
            summary="Dependencies reachable; role of the instance",
            response_model=Readiness,
            responses={
                503: {"model": Readiness, "description": "not ready: a check or background work failed"}
            },
        )
        async def readyz() -> JSONResponse:
            ready, checks = await self.readiness()
            status = "ready" if ready else ("draining" if self.draining else "not-ready")
            body = Readiness(
                status=status,
                role=self.role,
                checks=checks,
                failures=dict(self.failures),
                service=self.name,
                instance=self.instance,
            )
            return JSONResponse(body.model_dump(mode="json"), status_code=200 if ready else 503)

        @app.get(
            "/metrics",
            tags=["operations"],
            summary="Prometheus metrics",
            response_class=PlainTextResponse,
            responses={200: {"content": {CONTENT_TYPE_LATEST: {"schema": {"type": "string"}}}}},
        )
        async def metrics() -> Response:
            await self.readiness()
            return Response(generate_latest(self.metrics_registry), media_type=CONTENT_TYPE_LATEST)

        may_switch = self.require(f"{self.name}.instance.switchover")

        @app.post(
            "/api/v1/lease/hand-over",
            tags=["operations"],
            summary="Switchover: this instance releases its lease now and stays standby a while",
            responses=problems.responses(409),
        )
        async def hand_over(claims: Claims = may_switch) -> HandedOver:
            if self.lease is None:
                raise NotSingleton(f"{self.name} is not active/standby", {"service": self.name})
            hold_off = self.settings.lease_ttl_s * 4
            log.warning("switchover asked by %s", claims.subject)
            was_active = await self.lease.hand_over(hold_off)
            return HandedOver(
                service=self.name, instance=self.instance, was_active=was_active, hold_off_s=hold_off
            )

        store = dead_letters.DeadLetterStore(self.bus)
        app.include_router(dead_letters.router(store, self.require(f"{self.name}.dead-letters.manage")))
        for router, active_only in self._routers:
            app.include_router(router, dependencies=[Depends(self._active_only)] if active_only else [])
        problems.document(app)
        return app


# how long an idle keep-alive connection stays open: longer than the idle expiry of the clients that reuse
# them (httpx's 5 s, core-bus's proxy included), so a client never sends on a connection the server has
# just closed (a read error on a request nobody refused)
KEEP_ALIVE_S = 75


def run(service: Service, app: FastAPI) -> None:
    """Serve ``app`` until SIGTERM or SIGINT; then shut down gracefully."""
    settings = service.settings
    setup_logging(service.name, service.instance, settings.log_level, settings.log_json)
    config = uvicorn.Config(
        app,
        host=settings.http_host,
        port=settings.http_port,
        log_config=None,
        lifespan="on",
        timeout_graceful_shutdown=int(settings.drain_timeout_s) or None,
        timeout_keep_alive=KEEP_ALIVE_S,
        **settings.http_server_options(),  # type: ignore[arg-type]
    )
    uvicorn.Server(config).run()

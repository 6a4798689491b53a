"""queue-manager: wiring of the service (a singleton: the ACD decides in one place)."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

import yaml
from fastapi import FastAPI

from callisto_queue_manager import __version__, handlers
from callisto_queue_manager.acd import Acd
from callisto_queue_manager.api import agents, callbacks, help, queues
from callisto_queue_manager.assistance import HelpBoard
from callisto_queue_manager.engine import Engine
from callisto_queue_manager.model import AgentProfile, QueueConfig
from callisto_queue_manager.queues_document import QueuesDocument
from callisto_queue_manager.settings import QueueManagerSettings
from callisto_queue_manager.store import Store
from callisto_runtime import DurableConsumer, Service

log = logging.getLogger(__name__)
RECONCILE_DELAY_S = 2.0


def read_file(path: Path | None) -> dict[str, Any]:
    """The configuration file's data ({} without one)."""
    return (yaml.safe_load(path.read_text()) or {}) if path is not None else {}


def read_config(data: dict[str, Any]) -> tuple[list[QueueConfig], list[AgentProfile]]:
    return (
        [QueueConfig.model_validate(q) for q in data.get("queues", [])],
        [AgentProfile.model_validate(a) for a in data.get("agents", [])],
    )


def build(settings: QueueManagerSettings | None = None) -> tuple[Service, Engine, FastAPI]:
    settings = settings or QueueManagerSettings()
    service = Service("queue-manager", __version__, settings, singleton=True)
    # every Redis write carries the lease's fencing token: a stale active cannot overwrite its successor
    store = Store(
        settings.redis_url, fence=lambda: service.lease.token if service.lease is not None else None
    )

    def new_acd() -> Acd:
        acd = Acd()
        acd.help = HelpBoard(settings.help_response_s, settings.help_max_level)
        acd.reasons = frozenset(reason.code for reason in settings.reasons)
        return acd

    engine = Engine(new_acd(), store, service.bus)
    data = read_file(settings.initial_config())
    initial = read_config(data)  # a bad file stops the start, loudly
    # the file's queues: the first version of the queues document
    document = QueuesDocument(service, engine, lambda: {"queues": list(data.get("queues", []))})
    consumers: list[DurableConsumer] = []
    tasks: list[asyncio.Task[None]] = []
    service.add_check("redis", store.healthy)
    service.add_check("loaded", lambda: engine.loaded or not service.is_active)  # a standby loads later
    activation: list[asyncio.Task[None]] = []

    async def load() -> None:
        """Active: the state from Redis (as the previous active left it), then decide."""
        while not engine.loaded:
            try:
                await engine.load(initial)
            except Exception as exc:  # Redis not there yet
                log.warning("loading the ACD state from Redis failed (%r); retrying", exc)
                await asyncio.sleep(1.0)
        await document.reconcile()  # the configuration store's version of the queues wins
        for consumer in consumers:
            consumer.start()
        engine.start(settings.tick_s)
        await engine.reconcile()

    async def reconcile() -> None:
        """After a reconnect: calls may have ended while their events could not reach us (those
        kept by the stream arrive first: the check waits a moment)."""

        async def later() -> None:
            await asyncio.sleep(RECONCILE_DELAY_S)
            await engine.reconcile()

        if not service.is_active:
            return
        tasks[:] = [task for task in tasks if not task.done()]
        tasks.append(asyncio.create_task(later(), name="qm-reconcile"))

    async def role_changed(active: bool) -> None:
        """Only the lease holder decides: it loads, consumes and ticks; a standby does none of it
        (its commands are not even subscribed). Loading runs apart so the lease keeps renewing."""
        for task in activation:
            task.cancel()
        await asyncio.gather(*activation, return_exceptions=True)
        activation.clear()
        if active:
            activation.append(asyncio.create_task(load(), name="qm-activate"))
            return
        for consumer in consumers:
            await consumer.stop()
        await engine.step_down(new_acd())

    @service.on_startup
    async def startup() -> None:
        consumers.extend(await handlers.subscribe(service.bus, engine))
        service.bus.on_connect(reconcile)
        service.on_role_change(role_changed)

    @service.on_shutdown
    async def shutdown() -> None:
        for task in [*tasks, *activation]:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for consumer in consumers:
            await consumer.stop()
        await engine.stop()
        await store.close()

    service.include_router(queues.router(service, engine, document), active_only=True)
    service.include_router(agents.router(service, engine, settings.reasons), active_only=True)
    service.include_router(callbacks.router(service, engine), active_only=True)
    service.include_router(help.router(service, engine), active_only=True)
    return service, engine, service.create_app()

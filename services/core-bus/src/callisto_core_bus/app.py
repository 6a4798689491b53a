"""core-bus: wiring of the service (a singleton: one active, others standby)."""

from __future__ import annotations

import asyncio

from fastapi import FastAPI

from callisto_core_bus import __version__, handlers
from callisto_core_bus.api import backups as backups_api
from callisto_core_bus.api import client as client_page
from callisto_core_bus.api import configuration as configuration_api
from callisto_core_bus.api import gateway as gateway_api
from callisto_core_bus.api import health, lists, services
from callisto_core_bus.api import proxy as proxy_api
from callisto_core_bus.backups import Backups
from callisto_core_bus.configuration import ConfigStore
from callisto_core_bus.gateway import Gateway
from callisto_core_bus.metrics import SuiteCollector
from callisto_core_bus.proxy import Proxy
from callisto_core_bus.settings import CoreBusSettings
from callisto_core_bus.suite import Suite
from callisto_runtime import Service
from callisto_runtime.periodic import periodic


def build(settings: CoreBusSettings | None = None) -> tuple[Service, Suite, FastAPI]:
    settings = settings or CoreBusSettings()
    service = Service("core-bus", __version__, settings, singleton=True)
    suite = Suite(service, settings)
    gateway = Gateway(
        service.verifier, suite.agents, suite.calls, service.metrics_registry,
        queue_limit=settings.gateway_queue_limit, auth_timeout_s=settings.gateway_auth_timeout_s,
    )  # fmt: skip
    suite.taken.append(gateway.relay)
    proxy = Proxy(suite.instances)
    backups = Backups(service, settings, service.metrics_registry)
    schedule: list[asyncio.Task[None]] = []

    @service.on_startup
    async def startup() -> None:
        service.bus.on_connect(suite.on_connected)
        await handlers.subscribe(service.bus, suite)
        await gateway.subscribe(service.bus)  # every instance relays: a standby is as good a gateway
        suite.start_loops()
        if settings.backup_every_s > 0:
            schedule.append(periodic(settings.backup_every_s, backups.scheduled, "scheduled backup"))

    @service.on_shutdown
    async def shutdown() -> None:
        await suite.stop_loops()
        for task in schedule:
            task.cancel()
        await asyncio.gather(*schedule, return_exceptions=True)
        await proxy.close()

    service.metrics_registry.register(SuiteCollector(suite))
    told = client_page.ClientSettings(
        sip_url=settings.client_sip_url, crm_url=settings.client_crm_url,
        wallboard_url=settings.client_wallboard_url,
    )  # fmt: skip
    routers = (
        services.router(suite), health.router(suite), lists.router(suite), gateway_api.router(gateway),
        proxy_api.router(proxy), client_page.settings_router(service, told), backups_api.router(backups),
        configuration_api.router(ConfigStore(service, lambda name: bool(suite.registry.instances(name)))),
    )  # fmt: skip
    for router in routers:
        service.include_router(router)
    app = service.create_app()
    if settings.client_dir is not None:
        client_page.serve(app, settings.client_dir)
    return service, suite, app


def create_app() -> FastAPI:
    return build()[2]
